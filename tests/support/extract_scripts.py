#!/usr/bin/env python3
"""The shell scripts a host file would run, extracted the way the real system runs them.

Used by tests/host_fixes.rs (needs python3 with PyYAML; .ci/run installs it).

    extract_scripts.py FILE
        prints JSON [{"name": ..., "shell": "bash"|"sh", "script": ...}, ...]: every script the
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
  `#cloud-boothook`, `#cloud-config` or MIME.
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


def user_data(text, name, out, strict=False):
    """User data as cloud-init reads it. `strict`: anything else is an error."""
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
    for index, entry in enumerate(config.get("write_files") or []):
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


def cloudformation(doc, out):
    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{path}.{key}" if path else str(key)
                if key == "UserData":
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


def github(doc, out):
    top = dig(doc, ("defaults", "run", "shell"))
    for job_name, job in (doc.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        job_shell = dig(job, ("defaults", "run", "shell")) or top
        for index, step in enumerate(job.get("steps") or []):
            if not isinstance(step, dict) or "run" not in step:
                continue
            shell = step.get("shell") or job_shell or "bash"
            where = f"jobs.{job_name}.steps[{index}] {step.get('name', '')}".rstrip()
            if shell == "bash":
                out.add(where, "bash", "set -eo pipefail\n" + str(step["run"]))
            elif shell == "sh":
                out.add(where, "sh", "set -e\n" + str(step["run"]))


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

TF_HEREDOC = re.compile(r"\b(\w+)\s*=\s*(?:base64encode\(\s*)?<<(-?)(\w+)[ \t]*\n")
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
        key, dash, word = match.groups()
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
        if key not in TF_USER_DATA_KEYS and not value.startswith(TF_USER_DATA_START):
            continue
        tf_user_data(key, value, f"{key} heredoc {index + 1}", out)
    for index, match in enumerate(TF_STRING.finditer(text)):
        key, raw = match.groups()
        tf_user_data(key, hcl_template(hcl_unescape(raw)), f"{key} string {index + 1}", out)
    code = "\n".join(l for l in text.split("\n") if not l.lstrip().startswith(("#", "//")))
    for target in dict.fromkeys(TF_FILE.findall(code)):
        target = target.replace("${path.module}/", "")
        full = os.path.join(os.path.dirname(path), target)
        if os.path.isfile(full):
            with open(full, encoding="utf-8") as f:
                body = f.read()
            tf_file(body, f"file {target}", out)


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
    YAML (cloud-config or a manifest), HCL; Python is compiled. Other tags run nothing."""
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
    if lower.endswith(".tf"):
        return "terraform"
    if lower.endswith(".tpl"):
        return "script"
    if lower.endswith(".json"):
        return "json"
    if text.startswith("#cloud-config"):
        return "cloud-config"
    if text.startswith(("#!", "#cloud-boothook")):
        return "script"
    if lower.endswith(".mime") or MIME_START.match(text):
        return "mime"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    return "unknown"


def structured(doc, out):
    if not isinstance(doc, dict):
        return
    if "Resources" in doc or "AWSTemplateFormatVersion" in doc:
        cloudformation(doc, out)
    elif "kind" in doc and "apiVersion" in doc:
        kubernetes(doc, out)
    elif "jobs" in doc and ("on" in doc or True in doc):
        github(doc, out)
    else:
        gitlab(doc, out)


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
    elif kind == "terraform":
        terraform(path, text, out)
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
