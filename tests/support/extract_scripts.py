#!/usr/bin/env python3
"""The shell scripts a host file would run, extracted the way the real system runs them.

Used by tests/host_fixes.rs (needs python3 with PyYAML; .ci/run installs it).

    extract_scripts.py FILE
        prints JSON [{"name": ..., "shell": "bash"|"sh"|"powershell", "script": ...}, ...]: every script the
        host would run, in file order. Names never hold line numbers, so the scripts of a file
        and of its --fix output pair up by name.

    extract_scripts.py --check FILE...
        prints JSON {FILE: {"kind": ..., "errors": [...], "scripts": [...]}}: whether each file
        still parses as what it is (YAML, every document, CloudFormation short-form tags
        accepted; JSON; MIME; base64 of Secret data, write_files `encoding:` and
        user_data_base64; any cloud-config, MIME or base64 nested in them) and the scripts as
        above, for `bash -n`. A file that fails to parse has no scripts.

How each host runs its scripts:
- cloud-init `#cloud-config`: `runcmd` (and `bootcmd`) become one `#!/bin/sh` script, an item per
  line, a list item as single-quoted words (cloud-init's `shellify`); each `write_files` content
  (after its `encoding:`) with a shebang, or executable, is a script of its own.
- MIME multi-part user data: each text/x-shellscript* part and each boothook is a script, each
  text/cloud-config part is cloud-init; a text/plain (or untyped, or text/x-not-multipart) part
  and a gzip part (decompressed) are what their first line says.
- User data (Secret values, CloudFormation UserData, Terraform user_data): `#!` script,
  `#cloud-boothook`, `#cloud-config` or MIME; or EC2 Windows user data (`<powershell>`,
  `<persist>` first), whose `<powershell>` sections are scripts of shell "powershell".
- Kubernetes: a container whose command + args are `sh|bash -c SCRIPT`; Secret `data` values
  (base64) and `stringData` values that are user data; ConfigMap values with a shebang or a
  `.sh` key.
- CloudFormation: every UserData, with Fn::Base64, Fn::Sub (pseudo parameters replaced by
  literals such as us-east-1, `${!X}` becoming `${X}`, a variable of `[template, {vars}]` that
  cannot be evaluated by a word), Fn::Join and Ref of pseudo parameters evaluated; cfn-init
  (`AWS::CloudFormation::Init`) string commands and tests (sh), `[sh|bash, -c, SCRIPT]`
  commands, and files whose mode has an execute bit.
- Dockerfile: each shell-form RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD/ONBUILD RUN, continuation lines
  joined as Docker joins them (escape character and newline removed, comment lines inside
  dropped) and run by `sh -c` (or the stage's SHELL); exec form `["sh", "-c", SCRIPT]`;
  `RUN <<EOF` bodies.
- Documentation (Markdown through markdown-it-py, reStructuredText `code-block` directives,
  AsciiDoc `[source,…]` blocks): each tagged block as its tag says (shell, a console session's
  prompted commands, a Dockerfile, YAML, HCL; Python compiled).
- Helm templates: lines holding only actions removed, other actions a word; then Kubernetes.
- GitHub Actions: each `run:` step with shell bash (default; GitHub runs `bash -e -o pipefail`)
  or sh (`sh -e`); steps in other shells are skipped.
- GitLab CI: per job, before_script + script as one bash script (GitLab runs it with
  `set -eo pipefail`), after_script as another.
- Terraform: `user_data` heredocs (`<<-` dedented) and quoted strings, `user_data_base64`
  literals, and the files read by `file()`/`templatefile()` are user data; so are the heredocs of
  a `cloudinit_config` part's `content` and a `template_file`'s `template`, and any other
  heredoc (a local) that starts like user data (`#!`, `#cloud-config`, `#cloud-boothook`, MIME),
  and the EKS module's `pre_bootstrap_user_data` / `post_bootstrap_user_data` shell.
- Makefile (`Makefile`, `makefile`, `GNUmakefile`, `*.mk`): GNU make itself says what it hands
  its shell. It runs every explicit target of the file (`-k -i -B`) with SHELL set to a recorder
  that writes down each command it is given and runs nothing: every recipe line (or, under
  `.ONESHELL`, every recipe), every `$(shell …)` and `!=` command, each an `sh` script named by
  its order. A branch of a conditional that make does not take (a recorded `$(shell …)` prints
  nothing) is not seen. Errors are make's own (`*** missing separator`).
"""

import base64
import binascii
import email
import email.errors
import email.policy
import gzip
import json
import os
import re
import shlex
import subprocess
import tempfile
import sys

import yaml

# --------------------------------------------------------------------------------------------
# Errors and results


class HostError(Exception):
    """The file (or something nested in it) does not parse as what it is."""


class Result:
    def __init__(self):
        self.scripts = []

    def add(self, name, shell, script):
        self.scripts.append({"name": name, "shell": shell, "script": script})


# --------------------------------------------------------------------------------------------
# YAML with CloudFormation short forms


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts any `!Tag` (CloudFormation short forms) as `{"Fn::Tag": value}`."""


def _construct_tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    key = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {key: value}


CfnLoader.add_multi_constructor("!", _construct_tagged)


def load_yaml_documents(text, what):
    try:
        return [d for d in yaml.load_all(text, Loader=CfnLoader)]
    except yaml.YAMLError as e:
        raise HostError(f"{what} is not valid YAML: {e}") from None


def b64decode_strict(value, what):
    if not isinstance(value, str):
        raise HostError(f"{what} is not a string")
    compact = re.sub(r"\s+", "", value)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as e:
        raise HostError(f"{what} is not valid base64: {e}") from None


def utf8(data, what):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HostError(f"{what} is not UTF-8 text: {e}") from None


# --------------------------------------------------------------------------------------------
# Shells


def shebang_shell(text):
    """`bash` or `sh` for a shell shebang, None for another interpreter or no shebang."""
    if not text.startswith("#!"):
        return None
    words = text[2:].split("\n", 1)[0].split()
    if not words:
        return None
    program = os.path.basename(words[0])
    if program == "env":
        rest = [w for w in words[1:] if not w.startswith("-")]
        program = os.path.basename(rest[0]) if rest else ""
    if program == "bash":
        return "bash"
    if program in ("sh", "dash", "ash"):
        return "sh"
    return None


def shell_name(program):
    base = os.path.basename(str(program))
    if base == "bash":
        return "bash"
    if base in ("sh", "dash", "ash"):
        return "sh"
    return None


# --------------------------------------------------------------------------------------------
# User data and cloud-init


MIME_START = re.compile(r"^(Content-Type|MIME-Version)\s*:", re.IGNORECASE)


WINDOWS_SECTION = re.compile(r"<powershell>(.*?)(?:</powershell>|\Z)", re.IGNORECASE | re.DOTALL)


EC2LAUNCH_V2 = re.compile(r"(?:#[^\n]*\n|\s*\n)*version:\s*[\"']?1(?:\.0)?[\"']?\s*\n(?:.*\n)*tasks:")


def ec2launch_v2(doc, name, out):
    """EC2Launch v2 YAML user data: each `executeScript` input of type powershell is a
    PowerShell script, of type bash a bash script (batch is cmd.exe: not run here)."""
    for index, task in enumerate((doc or {}).get("tasks") or []):
        if not isinstance(task, dict) or task.get("task") != "executeScript":
            continue
        for number, item in enumerate(task.get("inputs") or []):
            if not isinstance(item, dict) or not isinstance(item.get("content"), str):
                continue
            kind = str(item.get("type", "")).lower()
            where = f"{name} tasks[{index}].inputs[{number}]"
            if kind == "powershell":
                out.add(where, "powershell", item["content"])
            elif kind == "bash":
                out.add(where, "bash", item["content"])


def windows_user_data(text, name, out):
    """EC2 Windows user data (EC2Launch): each `<powershell>` section is a PowerShell script,
    shell "powershell" (checked with imds-lint's own grammar, since PowerShell does not run
    here). Whether it is Windows user data: it starts with `<powershell>` or `<persist>` (after a
    byte order mark and blanks). Returns whether it was."""
    start = text.lstrip("\ufeff").lstrip()
    if EC2LAUNCH_V2.match(start):
        ec2launch_v2(yaml.safe_load(start), name, out)
        return True
    if not re.match(r"<(powershell|persist)>", start, re.IGNORECASE):
        return False
    for index, match in enumerate(WINDOWS_SECTION.finditer(text)):
        out.add(f"{name} <powershell> {index + 1}", "powershell", match.group(1))
    return True


def user_data(text, name, out, strict=False):
    """User data as cloud-init reads it (or EC2Launch, on Windows). `strict`: anything else is
    an error."""
    if windows_user_data(text, name, out):
        return
    if text.startswith("#!"):
        shell = shebang_shell(text)
        if shell:
            out.add(name, shell, text)
        return
    if text.startswith("#cloud-boothook"):
        body = text.split("\n", 1)[1] if "\n" in text else ""
        out.add(name, shebang_shell(body) or "sh", body)
        return
    if text.startswith("#cloud-config"):
        cloud_config(text, name, out)
        return
    if MIME_START.match(text):
        mime(text, name, out)
        return
    if strict:
        raise HostError(f"{name} is not user data")


def cloud_config(text, name, out):
    docs = load_yaml_documents(text, f"{name} (cloud-config)")
    config = docs[0] if docs else None
    if config is None:
        return
    if not isinstance(config, dict):
        raise HostError(f"{name} (cloud-config) is not a mapping")
    prefix = f"{name} " if name else ""
    for key in ("bootcmd", "runcmd"):
        items = config.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise HostError(f"{prefix}{key} is not a list")
        out.add(f"{prefix}{key}", "sh", shellify(items))
    cloud_config_files(config.get("write_files") or [], prefix.strip(), out)


def cloud_config_files(entries, name, out):
    """The write_files entries (or Cluster API `files`) that are scripts."""
    prefix = f"{name} " if name else ""
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        content = entry.get("content", "")
        where = f"{prefix}write_files[{index}] {entry.get('path', '')}"
        encoding = str(entry.get("encoding", "")).lower()
        if encoding in ("b64", "base64"):
            content = utf8(b64decode_strict(content, where), where)
        elif encoding in ("gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
            try:
                content = utf8(gzip.decompress(b64decode_strict(content, where)), where)
            except (OSError, EOFError) as e:
                raise HostError(f"{where} is not gzip: {e}") from None
        elif encoding in ("gz", "gzip"):
            continue
        if not isinstance(content, str):
            continue
        shell = shebang_shell(content)
        try:
            executable = int(str(entry.get("permissions", "0")).strip("'\""), 8) & 0o111
        except ValueError:
            executable = 0
        if shell:
            out.add(where, shell, content)
        elif executable or str(entry.get("path", "")).endswith(".sh"):
            out.add(where, "sh", content)


def shellify(items):
    """cloud-init's util.shellify: a string item as is, a list item as single-quoted words."""
    lines = ["#!/bin/sh"]
    for item in items:
        if isinstance(item, list):
            lines.append(" ".join("'" + str(w).replace("'", "'\\''") + "'" for w in item))
        elif isinstance(item, str):
            lines.append(item)
        else:
            raise HostError(f"runcmd item {item!r} is neither a string nor a list")
    return "\n".join(lines) + "\n"


# The part types cloud-init decompresses before it reads what they hold.
GZIP_TYPES = (
    "application/gzip",
    "application/gzip-compressed",
    "application/gzipped",
    "application/x-compress",
    "application/x-compressed",
    "application/x-gunzip",
    "application/x-gzip",
    "application/x-gzip-compressed",
)


def type_from_content(body):
    """The part type cloud-init gives a text/plain (or decompressed) part by its first line."""
    head = body.lstrip().lower()
    if head.startswith(("#cloud-config-archive", "#cloud-config-jsonp")):
        return None
    for start, ctype in (
        ("#cloud-config", "text/cloud-config"),
        ("#cloud-boothook", "text/cloud-boothook"),
        ("#!", "text/x-shellscript"),
    ):
        if head.startswith(start):
            return ctype
    return None


# Defects the email parser notes while it still reads every part as cloud-init runs it: a last
# part without a close delimiter, a part whose headers are not followed by a blank line.
TOLERATED_DEFECTS = (
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
)


def defects(entity):
    return [d for d in entity.defects if not isinstance(d, TOLERATED_DEFECTS)]


def mime(text, name, out):
    message = email.message_from_string(text, policy=email.policy.compat32)
    if defects(message):
        raise HostError(f"{name or 'MIME'}: {message.defects}")
    if not message.is_multipart():
        raise HostError(f"{name or 'MIME'} is not multipart")
    index = 0
    for part in message.walk():
        if part.is_multipart():
            if defects(part):
                raise HostError(f"{name or 'MIME'}: {part.defects}")
            continue
        index += 1
        where = f"{name + ' ' if name else ''}part {index}"
        if defects(part):
            raise HostError(f"{where}: {part.defects}")
        ctype = part.get_content_type()
        cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        raw = part.get_payload()
        if cte == "base64":
            data = b64decode_strict(raw, where)
        else:
            data = part.get_payload(decode=True) or b""
        if ctype in GZIP_TYPES:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as e:
                raise HostError(f"{where} is not gzip: {e}") from None
            ctype = "text/plain"
        if ctype in ("text/x-include-url", "text/x-include-once-url", "text/part-handler"):
            continue
        body = utf8(data, where)
        if ctype in ("text/plain", "text/x-not-multipart", "text/x-shellscript"):
            ctype = type_from_content(body) or ctype
        if ctype.startswith("text/x-shellscript"):
            shell = shebang_shell(body)
            if shell:
                out.add(where, shell, body)
        elif ctype == "text/cloud-boothook":
            user_data(body if body.startswith("#") else "#cloud-boothook\n" + body, where, out)
        elif ctype == "text/cloud-config":
            cloud_config(body, where, out)


# --------------------------------------------------------------------------------------------
# Kubernetes


WORKLOAD_SPEC_PATHS = (
    ("spec",),
    ("spec", "template", "spec"),
    ("spec", "jobTemplate", "spec", "template", "spec"),
)


def dig(value, path):
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


BOOT_CONFIG_KINDS = (
    "KubeadmConfig",
    "KubeadmConfigTemplate",
    "EKSConfig",
    "EKSConfigTemplate",
    "NodeadmConfig",
    "NodeadmConfigTemplate",
    "KubeadmControlPlane",
    "KubeadmControlPlaneTemplate",
)
BOOT_CONFIG_COMMANDS = (
    "preKubeadmCommands",
    "preBootstrapCommands",
    "preNodeadmCommands",
    "postKubeadmCommands",
    "postBootstrapCommands",
)


def kubernetes(doc, out):
    kind = doc.get("kind")
    meta = doc.get("metadata") or {}
    base = f"{kind} {meta.get('name', '')}".strip()
    if kind == "Secret":
        for key, value in (doc.get("data") or {}).items():
            where = f"{base} data.{key}"
            text = utf8(b64decode_strict(value, where), where)
            user_data(text, where, out)
        for key, value in (doc.get("stringData") or {}).items():
            if isinstance(value, str):
                user_data(value, f"{base} stringData.{key}", out)
        return
    api = str(doc.get("apiVersion", ""))
    if kind in BOOT_CONFIG_KINDS and api.startswith(
        ("bootstrap.cluster.x-k8s.io/", "controlplane.cluster.x-k8s.io/")
    ):
        # Cluster API renders the commands (pre before its own, post after) into one runcmd and
        # the files into write_files.
        spec = doc.get("spec") or {}
        if kind.endswith("Template"):
            spec = (spec.get("template") or {}).get("spec") or {}
        if kind.startswith("KubeadmControlPlane"):
            spec = spec.get("kubeadmConfigSpec") or {}
        items = []
        for key in BOOT_CONFIG_COMMANDS:
            items += spec.get(key) or []
        if items:
            out.add(f"{base} commands", "sh", shellify(items))
        files = [f for f in spec.get("files") or [] if isinstance(f, dict) and "content" in f]
        cloud_config_files(files, base, out)
        return
    if kind == "ConfigMap":
        for key, value in (doc.get("data") or {}).items():
            if not isinstance(value, str):
                continue
            shell = shebang_shell(value) or ("sh" if str(key).endswith(".sh") else None)
            if shell:
                out.add(f"{base} data.{key}", shell, value)
        return
    for path in WORKLOAD_SPEC_PATHS:
        spec = dig(doc, path)
        if not isinstance(spec, dict):
            continue
        for group in ("initContainers", "containers", "ephemeralContainers"):
            for container in spec.get(group) or []:
                if not isinstance(container, dict):
                    continue
                argv = [str(w) for w in (container.get("command") or [])]
                argv += [str(w) for w in (container.get("args") or [])]
                if len(argv) >= 3 and shell_name(argv[0]) and re.fullmatch(r"-[a-z]*c", argv[1]):
                    out.add(
                        f"{base} {group}.{container.get('name', '')}",
                        shell_name(argv[0]),
                        argv[2],
                    )


# --------------------------------------------------------------------------------------------
# CloudFormation

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::StackName": "runnable-stack",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/runnable-stack/1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": "",
}


class Unknown(Exception):
    """An intrinsic function that cannot be evaluated without a stack."""


def sub(template, variables):
    def replace(match):
        inner = match.group(1)
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        if inner in variables:
            try:
                return evaluate(variables[inner])
            except Unknown:
                # A parameter's value: any word (the stack gives it at deploy time).
                return "value"

        if inner in PSEUDO:
            return PSEUDO[inner]
        raise Unknown(f"${{{inner}}}")

    return re.sub(r"\$\{([^}]*)\}", replace, template)


def evaluate(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Fn::Base64":
            return evaluate(arg)
        if fn == "Fn::Sub":
            if isinstance(arg, str):
                return sub(arg, {})
            if isinstance(arg, list) and len(arg) == 2:
                return sub(evaluate(arg[0]), arg[1] or {})
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            return evaluate(arg[0]).join(evaluate(v) for v in arg[1])
        if fn == "Ref" and arg in PSEUDO:
            return PSEUDO[arg]
    raise Unknown(json.dumps(value, default=str)[:80])


def literal_base64(value):
    """The user data a literal UserData string decodes to, when it is base64 of a script,
    cloud-config, MIME or gzip; None when it is not base64 (then it is read as it is)."""
    compact = re.sub(r"\s+", "", value)
    if not compact:
        return None
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    if data.startswith(b"\x1f\x8b"):
        data = gzip.decompress(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    starts = ("#!", "#cloud-config", "#cloud-boothook", "Content-Type:", "MIME-Version:")
    return text if text.lstrip("\ufeff").startswith(starts) else None


def cloudformation(doc, out):
    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{path}.{key}" if path else str(key)
                if key == "UserData":
                    literal = literal_base64(value) if isinstance(value, str) else None
                    if literal is not None:
                        # Literal base64, which CloudFormation passes to EC2 as it is.
                        user_data(literal, here, out)
                        continue
                    try:
                        text = evaluate(value)
                    except Unknown:
                        continue
                    user_data(text, here, out)
                else:
                    walk(value, here)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(doc.get("Resources") or {}, "Resources")
    for logical, resource in (doc.get("Resources") or {}).items():
        init = dig(resource, ("Metadata", "AWS::CloudFormation::Init"))
        if isinstance(init, dict):
            cfn_init(init, f"Resources.{logical}.Metadata", out)
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type")
        properties = resource.get("Properties") or {}
        where = f"Resources.{logical}"
        if kind == "AWS::ImageBuilder::Component" and isinstance(properties.get("Data"), str):
            for inner in load_yaml_documents(properties["Data"], f"{where}.Data"):
                structured(inner, out)
        if kind == "AWS::SSM::Document":
            content = properties.get("Content")
            if isinstance(content, str):
                for inner in load_yaml_documents(content, f"{where}.Content"):
                    structured(inner, out)
            elif isinstance(content, dict):
                structured(content, out)
        if kind == "AWS::ImageBuilder::ImageRecipe":
            value = dig(properties, ("AdditionalInstanceConfiguration", "UserDataOverride"))
            if isinstance(value, str):
                # A literal: base64 of the user data.
                user_data(utf8(b64decode_strict(value, where), where), where, out)
            elif value is not None:
                try:
                    user_data(evaluate(value), where, out)
                except Unknown:
                    pass


def cfn_init(init, name, out):
    """cfn-init: string commands (and tests) run by the shell, `[sh|bash, -c, SCRIPT]` argv
    lists, and files whose mode has an execute bit."""
    for config, body in init.items():
        if config == "configSets" or not isinstance(body, dict):
            continue
        for key, command in (body.get("commands") or {}).items():
            for field in ("command", "test"):
                value = command.get(field) if isinstance(command, dict) else None
                here = f"{name}.{config}.commands.{key}.{field}"
                if isinstance(value, list):
                    if len(value) >= 3 and shell_name(value[0]) and value[1] == "-c":
                        try:
                            out.add(here, shell_name(value[0]), evaluate(value[2]))
                        except Unknown:
                            pass
                    continue
                if value is None:
                    continue
                try:
                    out.add(here, "sh", evaluate(value))
                except Unknown:
                    pass
        for path, spec in (body.get("files") or {}).items():
            if not isinstance(spec, dict) or "content" not in spec:
                continue
            mode = str(spec.get("mode", "000644"))
            if not any(int(d) & 1 for d in mode[-3:] if d in "01234567"):
                continue
            try:
                text = evaluate(spec["content"])
            except Unknown:
                continue
            shell = shebang_shell(text) if text.startswith("#!") else "sh"
            if shell:
                out.add(f"{name}.{config}.files.{path}", shell, text)


# --------------------------------------------------------------------------------------------
# GitHub Actions and GitLab CI


POWERSHELLS = ("pwsh", "pwsh.exe", "powershell", "powershell.exe")


def is_powershell(shell):
    """Whether a CI file's shell (`pwsh`, `powershell.exe -ExecutionPolicy Bypass`) is PowerShell."""
    words = str(shell).split()
    return bool(words) and re.split(r"[/\\]", words[0])[-1].lower() in POWERSHELLS


def windows_runner(job):
    runs_on = job.get("runs-on")
    if isinstance(runs_on, dict):
        runs_on = runs_on.get("labels")
    labels = runs_on if isinstance(runs_on, list) else [runs_on]
    return any("windows" in str(label).lower() for label in labels if label is not None)


def github(doc, out):
    top = dig(doc, ("defaults", "run", "shell"))
    for job_name, job in (doc.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        job_shell = dig(job, ("defaults", "run", "shell")) or top
        runner_shell = "pwsh" if windows_runner(job) else "bash"
        for index, step in enumerate(job.get("steps") or []):
            if not isinstance(step, dict) or "run" not in step:
                continue
            shell = step.get("shell") or job_shell or runner_shell
            where = f"jobs.{job_name}.steps[{index}] {step.get('name', '')}".rstrip()
            if shell == "bash":
                out.add(where, "bash", "set -eo pipefail\n" + str(step["run"]))
            elif shell == "sh":
                out.add(where, "sh", "set -e\n" + str(step["run"]))
            elif is_powershell(shell):
                out.add(where, "powershell", str(step["run"]))


GITLAB_RESERVED = {
    "image", "services", "stages", "types", "before_script", "after_script", "variables",
    "cache", "include", "default", "workflow", "pages:deploy",
}


def flatten(items):
    if isinstance(items, str):
        return [items]
    flat = []
    for item in items or []:
        flat.extend(flatten(item) if isinstance(item, list) else [str(item)])
    return flat


def gitlab(doc, out):
    default = doc.get("default") or {}
    for job_name, job in doc.items():
        if job_name in GITLAB_RESERVED or str(job_name).startswith("."):
            continue
        if not isinstance(job, dict) or "script" not in job:
            continue
        before = job.get("before_script", default.get("before_script", doc.get("before_script")))
        after = job.get("after_script", default.get("after_script", doc.get("after_script")))
        lines = flatten(before) + flatten(job["script"])
        out.add(f"{job_name} script", "bash", "set -eo pipefail\n" + "\n".join(lines) + "\n")
        if after:
            out.add(
                f"{job_name} after_script",
                "bash",
                "set -eo pipefail\n" + "\n".join(flatten(after)) + "\n",
            )


# --------------------------------------------------------------------------------------------
# Ansible, CodeBuild, CircleCI, Azure Pipelines, Bitbucket Pipelines, Buildkite

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)

ANSIBLE_SHELL = {"shell", "raw"}
ANSIBLE_BLOCKS = ("block", "rescue", "always")


def ansible_module(key):
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def ansible_tasks(tasks, where, out):
    for index, task in enumerate(tasks or []):
        if not isinstance(task, dict):
            continue
        here = f"{where}[{index}]"
        if any(k in task for k in ANSIBLE_BLOCKS):
            for key in ANSIBLE_BLOCKS:
                ansible_tasks(task.get(key), f"{here}.{key}", out)
            continue
        args = task.get("args") if isinstance(task.get("args"), dict) else {}
        for key, value in task.items():
            if ansible_module(key) not in ANSIBLE_SHELL:
                continue
            options = value if isinstance(value, dict) else {}
            script = options.get("cmd") if options else value
            if script is None or str(script).strip() == "":
                script = args.get("cmd")
            executable = options.get("executable") or args.get("executable") or "/bin/sh"
            shell = os.path.basename(str(executable))
            if script is None or shell not in ("sh", "bash"):
                continue
            # Jinja is templated before the shell runs: a word.
            out.add(here, shell, JINJA.sub("X", str(script)))


ANSIBLE_HTTP = {"uri", "get_url"}
# The header value `--fix` writes: the token when the token task's PUT answered 200, else `omit`.
JINJA_GUARDED = re.compile(
    r"^\{\{\s*(\w+)\.content\s+if\s+\(\s*\1\.status\s*\|\s*default\(0\)\s*\)\s*==\s*200"
    r"\s+else\s+omit\s*\}\}$"
)
JINJA_FIELD = re.compile(r"^\{\{\s*(\w+)(?:\.(\w+)|\[['\"](\w+)['\"]\])\s*\}\}$")


def ansible_flat(tasks):
    """The tasks of a list in the order they run, blocks flattened."""
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        if any(k in task for k in ANSIBLE_BLOCKS):
            for key in ANSIBLE_BLOCKS:
                yield from ansible_flat(task.get(key))
        else:
            yield task


def ansible_value(value):
    """A Jinja header value as bash: (guard variable or None, bash words)."""
    text = str(value).strip()
    guarded = JINJA_GUARDED.match(text)
    if guarded:
        name = guarded.group(1)
        return name, f'"${name}_content"'
    field = JINJA_FIELD.match(text)
    if field:
        return None, f'"${field.group(1)}_{field.group(2) or field.group(3)}"'
    return None, shlex.quote(JINJA.sub("X", text))


def ansible_http_task(task, module, value, lines):
    """One uri/get_url task as curl commands that register what the task registers: the status
    and the content, under the `register:` name (`NAME_status`, `NAME_content`)."""
    if isinstance(value, str):
        options = dict(w.split("=", 1) for w in shlex.split(value) if "=" in w)
    elif isinstance(value, dict):
        options = dict(value)
    else:
        return
    args = task.get("args") if isinstance(task.get("args"), dict) else {}
    options = {**args, **options}
    url = str(options.get("url", ""))
    loop = task.get("loop", task.get("with_items"))
    if re.fullmatch(r"\{\{\s*item\s*\}\}", url) and isinstance(loop, list):
        urls = [str(u) for u in loop]
    elif "{{" in url and isinstance(loop, list):
        urls = [re.sub(r"\{\{\s*item\s*\}\}", str(u), url) for u in loop]
    else:
        urls = [url]
    method = str(options.get("method", "GET")) if module == "uri" else "GET"
    register = task.get("register") or "_unregistered"
    lines.append("h=()")
    headers = options.get("headers")
    if isinstance(headers, dict):
        for name, header in headers.items():
            guard, words = ansible_value(header)
            add = f"h+=(-H {shlex.quote(str(name) + ': ')}{words})"
            lines.append(f'[ "${guard}_status" = 200 ] && {add}' if guard else add)
    timeout = options.get("timeout")
    limit = f"--max-time {int(timeout)} " if isinstance(timeout, int) else ""
    codes = options.get("status_code", [200])
    codes = [str(c) for c in (codes if isinstance(codes, list) else [codes])]
    for one in urls:
        url = shlex.quote(JINJA.sub("X", one))
        lines.append(
            f'{register}_status=$(curl -s {limit}-o "$body" -w "%{{http_code}}" -X {method} "${{h[@]}}" {url})'
            f" || {register}_status=-1"
        )
        lines.append(f'{register}_content=$(cat "$body")')
        if task.get("failed_when") is None and not task.get("ignore_errors"):
            allowed = " ".join(codes)
            lines.append(
                f'case " {allowed} " in *" ${register}_status "*) ;; *) echo "task failed: ${register}_status" >&2; exit 1;; esac'
            )
    if not task.get("no_log"):
        lines.append(f'echo "{register}: ${register}_status ${register}_content"')


def ansible_http(tasks, where, out):
    """The uri/get_url tasks of one play, in order, as one bash script of curl commands (with the
    shell tasks whose output a later header reads), so that a fix's token flow is run."""
    lines = []
    for task in ansible_flat(tasks):
        for key, value in task.items():
            module = ansible_module(key)
            if module in ANSIBLE_HTTP:
                ansible_http_task(task, module, value, lines)
            elif module in ANSIBLE_SHELL and task.get("register") and isinstance(value, str):
                lines.append(f"{task['register']}_stdout=$(sh -c {shlex.quote(JINJA.sub('X', value))})")
    if lines:
        out.add(where, "bash", 'body=$(mktemp)\n' + "\n".join(lines) + '\nrm -f "$body"\n')


def is_ansible(doc):
    return isinstance(doc, list) and doc and all(isinstance(i, dict) for i in doc)


def ansible(doc, out):
    for index, item in enumerate(doc):
        if "hosts" in item:
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                ansible_tasks(item.get(key), f"play[{index}].{key}", out)
            lists = [item.get(k) or [] for k in ("pre_tasks", "tasks", "post_tasks")]
            ansible_http([t for l in lists if isinstance(l, list) for t in l], f"play[{index}] uri/get_url", out)
        else:
            ansible_tasks([item], f"task[{index}]", out)
    if not any("hosts" in item for item in doc):
        ansible_http(doc, "tasks uri/get_url", out)


def lines_of(value):
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int, float))]
    return [] if value is None else [str(value)]


def buildspec(doc, out):
    phases = doc.get("phases") or {}
    shell = str(dig(doc, ("env", "shell")) or "bash")
    powershell = is_powershell(shell)
    if shell not in ("bash", "sh", "/bin/sh", "/bin/bash") and not powershell:
        return
    commands = []
    for phase in ("install", "pre_build", "build", "post_build"):
        for key in ("commands", "finally"):
            commands += lines_of(dig(phases, (phase, key)))
    kind = "powershell" if powershell else "sh"
    if str(doc.get("version")) == "0.1":
        for index, command in enumerate(commands):
            out.add(f"command {index}", kind, command + "\n")
    elif commands:
        out.add("phases", kind, "\n".join(commands) + "\n")


CIRCLE_PARAMETER = re.compile(r"<<\s*[A-Za-z_][\w.-]*\s*>>")


def circleci(doc, out):
    for section in ("jobs", "commands"):
        for name, job in (doc.get(section) or {}).items():
            if not isinstance(job, dict):
                continue
            for index, step in enumerate(job.get("steps") or []):
                if not isinstance(step, dict) or "run" not in step:
                    continue
                run = step["run"]
                command = run.get("command") if isinstance(run, dict) else run
                shell = (run.get("shell") if isinstance(run, dict) else None) or job.get("shell")
                powershell = bool(shell) and is_powershell(shell)
                if shell and not powershell and os.path.basename(str(shell).split()[0]) not in ("bash", "sh"):
                    continue
                if command is not None:
                    script = CIRCLE_PARAMETER.sub("X", str(command))
                    where = f"{section}.{name}.steps[{index}]"
                    if powershell:
                        out.add(where, "powershell", script)
                    else:
                        out.add(where, "bash", "set -eo pipefail\n" + script)


AZURE_MACRO = re.compile(r"\$\([A-Za-z0-9_.-]+\)|\$\{\{.*?\}\}|\$\[.*?\]")


def windows_pool(node, parent):
    pool = node.get("pool") if isinstance(node, dict) else None
    if isinstance(pool, dict) and "vmImage" in pool:
        return "windows" in str(pool["vmImage"]).lower()
    return parent


def azure_steps(steps, where, out, windows=False):
    for index, step in enumerate(steps or []):
        if not isinstance(step, dict):
            continue
        # On Windows agents `script:` runs in cmd.exe.
        script = step.get("bash") if windows else step.get("script", step.get("bash"))
        task = str(step.get("task", ""))
        inputs = step.get("inputs") or {}
        if script is None and task.split("@")[0] in ("Bash", "ShellScript"):
            if str(inputs.get("targetType", "filePath")).lower() == "inline":
                script = inputs.get("script")
        if script is not None:
            out.add(f"{where}[{index}]", "bash", AZURE_MACRO.sub("X", str(script)))
            continue
        # PowerShell: pwsh:/powershell: steps, PowerShell@2 inline, AzurePowerShell inline.
        code = step.get("pwsh", step.get("powershell"))
        name = task.split("@")[0]
        if code is None and name == "PowerShell":
            if str(inputs.get("targetType", "filePath")).lower() == "inline":
                code = inputs.get("script")
        if code is None and name == "AzurePowerShell":
            if str(inputs.get("ScriptType", "FilePath")).lower() == "inlinescript":
                code = inputs.get("Inline")
        if code is not None:
            out.add(f"{where}[{index}]", "powershell", AZURE_MACRO.sub("X", str(code)))


def azure(doc, out):
    top = windows_pool(doc, False)
    azure_steps(doc.get("steps"), "steps", out, top)
    jobs = [(job, top) for job in doc.get("jobs") or []]
    for stage in doc.get("stages") or []:
        if isinstance(stage, dict):
            jobs += [(job, windows_pool(stage, top)) for job in stage.get("jobs") or []]
    for index, (job, windows) in enumerate(jobs):
        if not isinstance(job, dict):
            continue
        windows = windows_pool(job, windows)
        azure_steps(job.get("steps"), f"jobs[{index}].steps", out, windows)
        for kind in (job.get("strategy") or {}).values():
            for hook in (kind or {}).values():
                if isinstance(hook, dict):
                    azure_steps(hook.get("steps"), f"jobs[{index}] hook", out, windows)


def bitbucket_items(items, where, out):
    for index, item in enumerate(items or []):
        if not isinstance(item, dict):
            continue
        step = item.get("step")
        if isinstance(step, dict):
            for key in ("script", "after-script"):
                lines = [l for l in (step.get(key) or []) if isinstance(l, str)]
                if lines:
                    out.add(f"{where}[{index}] {key}", "bash", "\n".join(lines) + "\n")
        parallel = item.get("parallel")
        if isinstance(parallel, dict):
            parallel = parallel.get("steps")
        bitbucket_items(parallel, f"{where}[{index}].parallel", out)
        stage = item.get("stage")
        if isinstance(stage, dict):
            bitbucket_items(stage.get("steps"), f"{where}[{index}].stage", out)


def bitbucket(doc, out):
    for key, value in (doc.get("pipelines") or {}).items():
        if key == "default":
            bitbucket_items(value, key, out)
        elif isinstance(value, dict):
            for name, items in value.items():
                bitbucket_items(items, f"{key}.{name}", out)


def buildkite_steps(steps, where, out):
    for index, step in enumerate(steps or []):
        if not isinstance(step, dict):
            continue
        buildkite_steps(step.get("steps"), f"{where}[{index}]", out)
        lines = lines_of(step.get("commands", step.get("command")))
        if lines:
            out.add(f"{where}[{index}]", "bash", "\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------
# Jenkinsfile (Groovy): `sh` steps whose script is one string literal

GROOVY_TOKEN = re.compile(
    r"(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<string>'{3}(?:\\.|[^\\])*?'{3}|\"{3}(?:\\.|[^\\])*?\"{3}"
    r"|'(?:\\.|[^\\'\n])*'|\"(?:\\.|[^\\\"\n])*\")"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>\S)",
    re.S,
)
GROOVY_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "$": "$", "b": "\b", "f": "\f", "n": "\n",
                  "r": "\r", "s": " ", "t": "\t"}


def groovy_value(literal):
    quote = literal[0]
    width = 3 if literal.startswith(quote * 3) and len(literal) >= 6 else 1
    inner = literal[width:-width]
    out, i = [], 0
    while i < len(inner):
        c = inner[i]
        if c == "\\":
            n = inner[i + 1]
            if n == "\n":
                i += 2
            elif n == "u":
                out.append(chr(int(inner[i + 2:i + 6], 16)))
                i += 6
            else:
                out.append(GROOVY_ESCAPES[n])
                i += 2
        elif c == "$" and quote == '"':
            m = re.match(r"\$\{[^}]*\}|\$[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", inner[i:])
            out.append("X")
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def jenkinsfile(text, out):
    tokens = [(m.lastgroup, m.group(0)) for m in GROOVY_TOKEN.finditer(text)
              if m.lastgroup != "comment"]
    for i, (kind, value) in enumerate(tokens):
        if kind != "word" or value not in ("sh", "powershell", "pwsh") or (
            i > 0 and tokens[i - 1][1] == "def"
        ):
            continue
        j = i + 1
        if j < len(tokens) and tokens[j][1] == "(":
            j += 1
        literal = None
        if j < len(tokens) and tokens[j][0] == "string":
            literal = tokens[j][1]
        else:
            depth = 0
            for k in range(j, len(tokens) - 2):
                value_k = tokens[k][1]
                if value_k in ("(", "[", "{"):
                    depth += 1
                elif value_k in (")", "]", "}"):
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0 and value_k == "script" and tokens[k + 1][1] == ":":
                    if tokens[k + 2][0] == "string":
                        literal = tokens[k + 2][1]
                    break
        if literal is not None and not (j + 1 < len(tokens) and tokens[j + 1][1] == "+"):
            if value == "sh":
                out.add(f"sh step {i}", "sh", groovy_value(literal) + "\n")
            else:
                out.add(f"{value} step {i}", "powershell", groovy_value(literal) + "\n")


# --------------------------------------------------------------------------------------------
# Dockerfile

HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


def dockerfile(text, out):
    lines = text.replace("\r\n", "\n").split("\n")
    escape = "\\"
    for line in lines:
        directive = re.match(r"#\s*(\w+)\s*=\s*(\S+)\s*$", line)
        if not directive:
            break
        if directive.group(1).lower() == "escape":
            escape = directive.group(2)
    shell = "sh"
    counts = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        # Join continuation lines as Docker does; comment and empty lines inside are dropped.
        logical = line
        while re.search(re.escape(escape) + r"[ \t]*$", logical) and i < len(lines):
            logical = re.sub(re.escape(escape) + r"[ \t]*$", "", logical)
            while i < len(lines) and (
                not lines[i].strip() or lines[i].lstrip().startswith("#")
            ):
                i += 1
            if i < len(lines):
                logical += lines[i]
                i += 1
        match = re.match(r"\s*([A-Za-z]+)[ \t]+(.*)\Z", logical, re.S)
        if not match:
            continue
        instruction, rest = match.group(1).upper(), match.group(2)
        if instruction == "FROM":
            shell = "sh"
            continue
        if instruction == "SHELL":
            try:
                argv = json.loads(rest)
                shell = shell_name(argv[0]) or shell
            except (ValueError, IndexError):
                pass
            continue
        if instruction == "ONBUILD":
            inner = re.match(r"([A-Za-z]+)[ \t]+(.*)\Z", rest, re.S)
            if not inner:
                continue
            instruction, rest = "ONBUILD " + inner.group(1).upper(), inner.group(2)
        if instruction == "HEALTHCHECK":
            inner = re.match(r"(?:--\S+\s+)*CMD[ \t]+(.*)\Z", rest, re.S | re.I)
            if not inner:
                continue
            instruction, rest = "HEALTHCHECK CMD", inner.group(1)
        if instruction not in ("RUN", "CMD", "ENTRYPOINT", "ONBUILD RUN", "HEALTHCHECK CMD"):
            continue
        counts[instruction] = counts.get(instruction, 0) + 1
        where = f"{instruction} #{counts[instruction]}"
        if instruction.endswith("RUN"):
            rest = re.sub(r"^(?:--\S+\s+)*", "", rest)
        stripped = rest.strip()
        if stripped.startswith("["):
            try:
                argv = json.loads(stripped)
            except ValueError:
                argv = None
            if argv is not None:
                if (
                    isinstance(argv, list)
                    and len(argv) >= 3
                    and shell_name(argv[0])
                    and re.fullmatch(r"-[a-z]*c", str(argv[1]))
                ):
                    out.add(where, shell_name(argv[0]), str(argv[2]))
                continue
        heredocs = HEREDOC.findall(rest) if instruction.endswith("RUN") else []
        if heredocs:
            bodies = []
            for dash, _quote, word in heredocs:
                body = []
                while i < len(lines):
                    current = lines[i]
                    i += 1
                    if (current.lstrip("\t") if dash else current) == word:
                        break
                    body.append(current)
                bodies.append((dash, word, body))
            if re.fullmatch(r"\s*<<-?[\"']?\w+[\"']?\s*", rest) and len(bodies) == 1:
                dash, _, body = bodies[0]
                script = "\n".join(l.lstrip("\t") if dash else l for l in body) + "\n"
                body_shell = shebang_shell(script)
                if script.startswith("#!") and not body_shell:
                    continue
                out.add(where, body_shell or shell, script)
            else:
                script = rest + "\n"
                for dash, word, body in bodies:
                    script += "".join(l + "\n" for l in body) + word + "\n"
                out.add(where, shell, script)
            continue
        out.add(where, shell, rest)


# --------------------------------------------------------------------------------------------
# Terraform

TF_HEREDOC = re.compile(r"\b(\w+)\s*=\s*(base64encode\(\s*)?<<(-?)(\w+)[ \t]*\n")
TF_USER_DATA_KEYS = (
    "user_data",
    "user_data_base64",
    "content",
    "template",
    "pre_bootstrap_user_data",
    "post_bootstrap_user_data",
)
TF_USER_DATA_START = ("#!", "#cloud-config", "#cloud-boothook", "Content-Type")
TF_STRING = re.compile(r"\b(user_data(?:_base64)?)\s*=\s*\"((?:[^\"\\\n]|\\.)*)\"")
TF_DOCUMENT_STRING = re.compile(r"\bcontent\s*=\s*\"((?:[^\"\\\n]|\\.)*)\"")
TF_FILE = re.compile(r"\b(?:file|templatefile)\(\s*\"([^\"]+)\"")


def hcl_template(text):
    return text.replace("$${", "${").replace("%%{", "%{")


def hcl_unescape(text):
    """The value of an HCL quoted string's body (escapes undone)."""
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}

    def replace(match):
        if match.group(1):
            return chr(int(match.group(1), 16))
        return escapes.get(match.group(2), match.group(0))

    return re.sub(r"\\(?:u([0-9a-fA-F]{4})|(.))", replace, text)


def terraform(path, text, out):
    for index, match in enumerate(TF_HEREDOC.finditer(text)):
        key, encoded, dash, word = match.groups()
        if encoded and key == "user_data_base64":
            # base64encode(<<EOT): the heredoc is the plain text.
            key = "user_data"
        start = match.end()
        end = re.compile(r"^[ \t]*" + re.escape(word) + r"[ \t]*$", re.M).search(text, start)
        if not end:
            raise HostError(f"heredoc {word} is not closed")
        body = text[start:end.start()]
        lines = body.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if dash:
            indents = [len(l) - len(l.lstrip(" ")) for l in lines if l.strip()]
            cut = min(indents) if indents else 0
            lines = [l[cut:] for l in lines]
        value = hcl_template("\n".join(lines) + "\n")
        if key in ("content", "data") and tf_document(value, f"{key} heredoc {index + 1}", out):
            continue
        if key not in TF_USER_DATA_KEYS and not value.startswith(TF_USER_DATA_START):
            continue
        tf_user_data(key, value, f"{key} heredoc {index + 1}", out)
    for index, match in enumerate(TF_STRING.finditer(text)):
        key, raw = match.groups()
        tf_user_data(key, hcl_template(hcl_unescape(raw)), f"{key} string {index + 1}", out)
    for index, match in enumerate(TF_DOCUMENT_STRING.finditer(text)):
        tf_document(hcl_template(hcl_unescape(match.group(1))), f"content string {index + 1}", out)
    code = "\n".join(l for l in text.split("\n") if not l.lstrip().startswith(("#", "//")))
    for target in dict.fromkeys(TF_FILE.findall(code)):
        target = target.replace("${path.module}/", "")
        full = os.path.join(os.path.dirname(path), target)
        if os.path.isfile(full):
            with open(full, encoding="utf-8") as f:
                body = f.read()
            tf_file(body, f"file {target}", out)


def tf_document(value, where, out):
    """An SSM document's `content` or an Image Builder component's `data` (YAML or JSON): read
    when it is one; whether it was."""
    try:
        docs = [d for d in yaml.safe_load_all(value) if isinstance(d, dict)]
    except yaml.YAMLError:
        return False
    if not any("schemaVersion" in d for d in docs):
        return False
    for doc in docs:
        structured(doc, out)
    return True


def tf_user_data(key, value, where, out):
    if key == "user_data_base64":
        if "${" in value:
            return
        value = utf8(b64decode_strict(value, where), where)
    tf_file(value, where, out)


def tf_file(text, where, out):
    before = len(out.scripts)
    user_data(text, where, out)
    if len(out.scripts) == before and not text.startswith(("#cloud-config", "Content-Type")):
        # A file()/templatefile() target without a shebang is still run as a script.
        if not text.startswith("#!") and "<powershell>" not in text:
            out.add(where, "sh", text)


# --------------------------------------------------------------------------------------------
# Files


RECORDER = r'''#!/bin/sh
# Called by make as `$SHELL $.SHELLFLAGS COMMAND`: writes COMMAND down, runs nothing.
for last in "$@"; do :; done
printf '%s\0' "$last" >> "$MAKE_RECORD"
'''

TARGET = re.compile(r"^([^\t#=:$%][^#=:$%]*?)\s*(?:::|:)(?![:=])", re.M)


def makefile(path, text, out):
    targets = []
    for match in TARGET.finditer(text):
        for target in match.group(1).split():
            if not target.startswith(".") and target not in targets:
                targets.append(target)
    with tempfile.TemporaryDirectory() as work:
        # Named `sh`: make strips the prefixes of a .ONESHELL recipe's inner lines only for a
        # shell it knows as POSIX, by its name.
        os.mkdir(os.path.join(work, "bin"))
        recorder = os.path.join(work, "bin", "sh")
        record = os.path.join(work, "record")
        with open(recorder, "w") as f:
            f.write(RECORDER)
        os.chmod(recorder, 0o755)
        open(record, "w").close()
        env = {"PATH": os.environ.get("PATH", ""), "MAKE_RECORD": record, "LC_ALL": "C"}
        ran = subprocess.run(
            ["make", "-f", os.path.abspath(path), "-s", "-k", "-i", "-B",
             f"SHELL={recorder}", ".SHELLFLAGS=-c", *targets],
            cwd=work, env=env, capture_output=True, text=True, timeout=60,
        )
        errors = [
            line
            for line in ran.stderr.splitlines()
            if "***" in line
            and "No rule to make target" not in line
            and "No targets" not in line
        ]
        if ran.returncode != 0 and errors:
            raise HostError("make cannot read it: " + "; ".join(errors))
        with open(record, "rb") as f:
            commands = f.read().split(b"\0")
    for i, command in enumerate(c for c in commands if c):
        out.add(f"command {i + 1}", "sh", utf8(command, path))


SHELL_TAGS = ("sh", "bash", "shell", "zsh", "ksh")
CONSOLE_TAGS = ("console", "shell-session", "sh-session", "shellsession", "terminal")


def code_block(tag, content, name, path, out):
    """A tagged code block of documentation, run as its tag says: shell (bash), a console
    session (the commands after `$ `/`# ` prompts, with their continuation lines), a Dockerfile,
    YAML (cloud-config or a manifest), HCL, PowerShell (checked with imds-lint's grammar); Python
    is compiled. Other tags run nothing."""
    if tag in SHELL_TAGS:
        out.add(name, "bash", content)
    elif tag in CONSOLE_TAGS:
        commands, continued = [], False
        for line in content.splitlines():
            if continued:
                commands.append(line)
            elif line.startswith(("$ ", "# ")):
                line = line[2:]
                commands.append(line)
            elif line in ("$", "#"):
                line = ""
                commands.append(line)
            else:
                continue
            continued = line.endswith("\\")
        out.add(name, "bash", "\n".join(commands) + "\n")
    elif tag in ("dockerfile", "docker", "containerfile"):
        inner = Result()
        dockerfile(content, inner)
        for script in inner.scripts:
            out.add(f"{name} {script['name']}", script["shell"], script["script"])
    elif tag in ("yaml", "yml", "json"):
        if content.startswith("#cloud-config"):
            cloud_config(content, name, out)
        else:
            for doc in load_yaml_documents(content, name):
                structured(doc, out)
    elif tag in ("hcl", "terraform", "tf"):
        terraform(path, content, out)
    elif tag in ("powershell", "ps1", "pwsh", "ps", "posh"):
        out.add(name, "powershell", content)
    elif tag in ("python", "py", "python3"):
        try:
            compile(content, name, "exec")
        except SyntaxError as e:
            raise HostError(f"{name}: not valid Python: {e}") from None


def markdown(path, text, out):
    """Fenced code blocks, as markdown-it-py (CommonMark) reads them."""
    from markdown_it import MarkdownIt

    for i, token in enumerate(t for t in MarkdownIt("commonmark").parse(text) if t.type == "fence"):
        words = token.info.split()
        if words:
            code_block(words[0].lower(), token.content, f"fence {i + 1}", path, out)


RST_DIRECTIVE = re.compile(r"^( *)\.\. (?:code-block|code|sourcecode)::\s*(\S+)")


def rst(path, text, out):
    """`.. code-block:: LANG` directives: options, a blank line, then the indented content."""
    lines = text.splitlines()
    count = 0
    for i, line in enumerate(lines):
        match = RST_DIRECTIVE.match(line)
        if not match:
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip().startswith(":"):
            j += 1
        body = []
        indent = None
        for line in lines[j:]:
            if line.strip():
                lead = len(line) - len(line.lstrip(" "))
                if indent is None:
                    indent = lead
                if lead < indent or lead <= len(match.group(1)):
                    break
                body.append(line[indent:])
            else:
                body.append("")
        count += 1
        code_block(match.group(2).lower(), "\n".join(body).strip("\n") + "\n", f"block {count}", path, out)


def asciidoc(path, text, out):
    """`[source,LANG]` followed by a `----` delimited block."""
    lines = text.splitlines()
    count = 0
    i = 0
    while i < len(lines):
        match = re.match(r"^\[source,\s*([^,\]\s]+)", lines[i].strip())
        if match and i + 1 < len(lines) and re.fullmatch(r"-{4,}", lines[i + 1]):
            end = lines.index(lines[i + 1], i + 2) if lines[i + 1] in lines[i + 2:] else len(lines)
            count += 1
            code_block(match.group(1).lower(), "\n".join(lines[i + 2:end]) + "\n", f"block {count}", path, out)
            i = end + 1
        else:
            i += 1


HELM_ACTION = re.compile(r"\{\{.*?\}\}", re.S)


def helm(text, out):
    """A Helm chart template, as far as it can be read without Helm: lines that hold only
    actions removed, other actions replaced by a word; then Kubernetes YAML."""
    # An action over several lines: its lines are not known.
    text = HELM_ACTION.sub(lambda m: "\n" * m.group(0).count("\n") or m.group(0), text)
    kept = []
    for line in text.split("\n"):
        if line.strip() and not HELM_ACTION.sub("", line).strip():
            kept.append("")
        else:
            kept.append(HELM_ACTION.sub("x", line))
    for doc in load_yaml_documents("\n".join(kept), "the template"):
        structured(doc, out)


def kind_of(path, text):
    name = os.path.basename(path)
    lower = name.lower()
    if lower.endswith((".md", ".markdown")):
        return "markdown"
    if lower.endswith(".rst"):
        return "rst"
    if lower.endswith((".adoc", ".asciidoc")):
        return "asciidoc"
    if lower.endswith((".yaml", ".yml")) and re.search(r"(?<!\$)\{\{", text) and re.search(
        r"\.Values|\.Release|\.Chart|include \"", text
    ):
        return "helm"
    if name in ("Makefile", "makefile", "GNUmakefile") or lower.endswith(".mk"):
        return "makefile"
    if (
        lower in ("dockerfile", "containerfile")
        or lower.startswith("dockerfile.")
        or lower.endswith(".dockerfile")
    ):
        return "dockerfile"
    if lower.endswith(".pkr.hcl"):
        return "packer-hcl"
    if lower.endswith(".tf"):
        return "terraform"
    if name == "Jenkinsfile" or name.startswith("Jenkinsfile.") or lower.endswith(
        (".jenkinsfile", ".groovy")
    ):
        return "jenkinsfile"
    if lower.endswith(".tpl"):
        return "script"
    if lower.endswith(".json"):
        return "json"
    if text.startswith("#cloud-config"):
        return "cloud-config"
    if EC2LAUNCH_V2.match(text.lstrip("\ufeff")):
        return "script"
    if text.startswith(("#!", "#cloud-boothook")):
        return "script"
    if lower.endswith(".mime") or MIME_START.match(text):
        return "mime"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if "." not in name and os.path.basename(os.path.dirname(path)) in ("scripts", "files"):
        # A script a Packer provisioner names (`scripts/NAME`, no extension, no shebang), or an
        # Ansible `script` task (`files/NAME`).
        return "script"
    return "unknown"


def structured(doc, out):
    if is_ansible(doc):
        ansible(doc, out)
        return
    if not isinstance(doc, dict):
        return
    if "phases" in doc and "version" in doc:
        buildspec(doc, out)
    elif "version" in doc and "on" not in doc and isinstance(doc.get("jobs"), dict):
        circleci(doc, out)
    elif isinstance(doc.get("pipelines"), dict):
        bitbucket(doc, out)
    elif isinstance(doc.get("steps"), list) and any(
        isinstance(s, dict) and ({"command", "commands", "label", "wait"} & set(s))
        for s in doc["steps"]
    ):
        buildkite_steps(doc["steps"], "steps", out)
    elif any(isinstance(doc.get(k), list) for k in ("steps", "jobs", "stages")) and not (
        "script" in str(list(doc.keys()))
    ) and any(
        isinstance(i, dict) for k in ("steps", "jobs", "stages") for i in (doc.get(k) or [])
        if isinstance(doc.get(k), list)
    ):
        azure(doc, out)
    elif "Resources" in doc or "AWSTemplateFormatVersion" in doc:
        cloudformation(doc, out)
    elif "kind" in doc and "apiVersion" in doc:
        kubernetes(doc, out)
    elif "jobs" in doc and ("on" in doc or True in doc):
        github(doc, out)
    elif "schemaVersion" in doc and isinstance(doc.get("phases"), list):
        imagebuilder(doc, out)
    elif "schemaVersion" in doc and ("mainSteps" in doc or "runtimeConfig" in doc):
        ssm(doc, out)
    elif isinstance(doc.get("builders"), list) or isinstance(doc.get("provisioners"), list):
        packer(doc, "", out)
    else:
        gitlab(doc, out)


# --------------------------------------------------------------------------------------------
# Image Builder components, SSM documents, Packer templates: a list of lines is one script, what
# the host substitutes (`{{ … }}`, `${…}`) any word.


def command_lines(value, open_, close):
    lines = value if isinstance(value, list) else [value]
    text = "\n".join(str(line) for line in lines if isinstance(line, (str, int, float)))
    return re.sub(re.escape(open_) + r".*?" + re.escape(close), "value", text)


def imagebuilder(doc, out):
    run = []  # ExecuteBash command text and ExecuteBinary paths: what may run a CreateFile file
    files = []
    for phase in doc.get("phases") or []:
        for step in (phase or {}).get("steps") or []:
            if not isinstance(step, dict):
                continue
            name = f"{phase.get('name')}.{step.get('name')}"
            if step.get("action") == "ExecuteBash":
                commands = dig(step, ("inputs", "commands"))
                if commands is not None:
                    out.add(name, "bash", command_lines(commands, "{{", "}}"))
                    run.append(command_lines(commands, "{{", "}}"))
            elif step.get("action") == "ExecuteBinary":
                run.append(str(dig(step, ("inputs", "path")) or ""))
            elif step.get("action") == "CreateFile":
                for item in (step.get("inputs") or []):
                    if isinstance(item, dict) and isinstance(item.get("content"), str):
                        files.append((name, str(item.get("path") or ""), item["content"]))
    # A written file is a script when its shebang names sh or bash, its name ends .sh/.bash, or
    # a step names its path (and no other interpreter's shebang says otherwise).
    for name, path, content in files:
        first = content.split("\n", 1)[0]
        shebang = first.startswith("#!")
        shell_shebang = shebang and re.search(r"\b(ba)?sh\b", first) is not None
        # Run: at a command's start, or after sudo, a shell or another runner (options between).
        runs = r"(^|[;&|(]\s*|(^|\s)(sudo|bash|sh|exec|env|nohup|source|\.)\s+(-\S+\s+)*)"
        named = path and any(
            re.search(runs + re.escape(path) + r"($|[\s;&|)])", r, re.M) for r in run
        )
        if shell_shebang or (not shebang and (path.endswith((".sh", ".bash")) or named)):
            shell = "sh" if re.match(r"#!\s*/bin/sh\b", first) else "bash"
            out.add(f"{name}:{path}", shell, content)


def ssm(doc, out):
    for step in doc.get("mainSteps") or []:
        if not isinstance(step, dict):
            continue
        inputs = step.get("inputs") or {}
        commands = None
        if step.get("action") == "aws:runShellScript":
            commands = inputs.get("runCommand")
        elif step.get("action") == "aws:runCommand" and inputs.get("DocumentName") == "AWS-RunShellScript":
            commands = dig(inputs, ("Parameters", "commands"))
        if commands is not None:
            out.add(str(step.get("name")), "sh", command_lines(commands, "{{", "}}"))
    plugin = dig(doc, ("runtimeConfig", "aws:runShellScript", "properties"))
    for index, run in enumerate(plugin if isinstance(plugin, list) else [plugin]):
        if isinstance(run, dict) and "runCommand" in run:
            out.add(f"runtimeConfig {index + 1}", "sh", command_lines(run["runCommand"], "{{", "}}"))


def packer(doc, where, out, open_="{{", close="}}"):
    """A Packer template as JSON (or as python-hcl2 reads HCL2: blocks are lists of maps)."""
    for index, builder in enumerate(doc.get("builders") or []):
        if isinstance(builder, dict) and isinstance(builder.get("user_data"), str):
            user_data(builder["user_data"], f"builder {index + 1}", out)
    for index, provisioner in enumerate(doc.get("provisioners") or []):
        if not isinstance(provisioner, dict):
            continue
        if provisioner.get("type") in ("shell", "shell-local") and "inline" in provisioner:
            text = command_lines(provisioner["inline"], open_, close)
            out.add(f"{where}provisioner {index + 1}", "sh", text)
        elif provisioner.get("type") == "powershell" and "inline" in provisioner:
            # Packer writes the lines into one .ps1 file; checked with imds-lint's grammar.
            text = command_lines(provisioner["inline"], open_, close)
            out.add(f"{where}provisioner {index + 1}", "powershell", text)


def packer_hcl(text, out):
    try:
        import hcl2
    except ImportError:
        raise HostError("python-hcl2 is not installed (.ci/run installs it)") from None
    try:
        doc = hcl2.loads(text)
    except Exception as e:  # noqa: BLE001 - the parser raises several kinds
        raise HostError(f"not valid HCL: {e}") from None

    def hcl(value):
        # `$${` is a literal `${`; `${…}` is substituted: any word.
        value = re.sub(r"(?<!\$)\$\{[^}]*\}", "value", value)
        return value.replace("$${", "${").replace("%%{", "%{")

    def lines(value):
        return [hcl(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]

    for source in doc.get("source") or []:
        for kind, named in source.items():
            for name, body in (named or {}).items():
                if isinstance(body.get("user_data"), str):
                    user_data(hcl(body["user_data"]), f"source {kind}.{name}", out)
    for index, build in enumerate(doc.get("build") or []):
        provisioners = []
        for block in build.get("provisioner") or []:
            for kind, body in block.items():
                body = dict(body, type=kind)
                if "inline" in body:
                    body["inline"] = lines(body["inline"])
                provisioners.append(body)
        packer({"provisioners": provisioners}, f"build {index + 1} ", out, "\0", "\0")


def extract(path):
    with open(path, "rb") as f:
        data = f.read()
    text = utf8(data, path)
    kind = kind_of(path, text)
    out = Result()
    if kind == "dockerfile":
        dockerfile(text, out)
    elif kind == "markdown":
        markdown(path, text, out)
    elif kind == "rst":
        rst(path, text, out)
    elif kind == "asciidoc":
        asciidoc(path, text, out)
    elif kind == "helm":
        helm(text, out)
    elif kind == "makefile":
        makefile(path, text, out)
    elif kind == "jenkinsfile":
        jenkinsfile(text, out)
    elif kind == "terraform":
        terraform(path, text, out)
    elif kind == "packer-hcl":
        packer_hcl(text, out)
    elif kind == "script":
        user_data(text, "", out, strict=False)
        if not out.scripts:
            out.add("", "sh", text)
    elif kind == "cloud-config":
        cloud_config(text, "", out)
    elif kind == "mime":
        mime(text, "", out)
    elif kind == "json":
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise HostError(f"not valid JSON: {e}") from None
        structured(doc, out)
    elif kind == "yaml":
        for doc in load_yaml_documents(text, "the file"):
            structured(doc, out)
    return kind, out.scripts


def main(argv):
    if len(argv) >= 2 and argv[0] == "--check":
        report = {}
        for path in argv[1:]:
            try:
                kind, scripts = extract(path)
                report[path] = {"kind": kind, "errors": [], "scripts": scripts}
            except HostError as e:
                report[path] = {"kind": "?", "errors": [str(e)], "scripts": []}
        json.dump(report, sys.stdout, indent=1)
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        _kind, scripts = extract(argv[0])
    except HostError as e:
        print(f"{argv[0]}: {e}", file=sys.stderr)
        return 1
    json.dump(scripts, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
