//! Which language a piece of code is in ([`Language`]), from what names its interpreter: a
//! shebang line or a program name. Front ends use it to classify scripts and user data, the shell analysis to see
//! a shell started by a command (`sh -c`).

/// The language a fragment's code is in: which analysis reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// POSIX-family shell (`sh`, `bash`, …).
    #[default]
    Shell,
    /// Python (2 or 3).
    Python,
    /// PowerShell (Windows PowerShell 5.1 or PowerShell 7, `pwsh`).
    PowerShell,
    /// An Ansible playbook or task file whose `uri`/`get_url` tasks make requests.
    Ansible,
}

/// The programs that run PowerShell code (`powershell.exe` is Windows PowerShell's).
const POWERSHELLS: &[&str] = &["powershell", "powershell.exe", "pwsh", "pwsh.exe"];

/// Whether a program name (without its directory; any case, as Windows names are) is a
/// PowerShell interpreter.
pub fn is_powershell_name(name: &str) -> bool {
    POWERSHELLS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// Whether a first line is a shebang for PowerShell (`#!/usr/bin/pwsh`, `#!/usr/bin/env pwsh`).
pub fn is_powershell_shebang(line: &str) -> bool {
    shebang_program(line).is_some_and(|(name, _)| is_powershell_name(name))
}

/// The programs that run Python code.
const PYTHONS: &[&str] = &["python", "python2", "python3"];

/// Whether a program name (without its directory) is a Python interpreter (`python3.11` too).
pub fn is_python_name(name: &str) -> bool {
    PYTHONS.contains(&name)
        || name.strip_prefix("python").is_some_and(|version| {
            !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
}

/// The program a shebang line names, through `env` (`#!/usr/bin/env -S python3 -u`).
fn shebang_program(line: &str) -> Option<(&str, std::str::SplitWhitespace<'_>)> {
    let rest = line.strip_prefix("#!")?;
    let mut words = rest.split_whitespace();
    let program = words.next()?;
    let mut name = program.rsplit('/').next().unwrap_or_default();
    if name == "env" {
        let mut next = words.next();
        while let Some(word) = next {
            if word.starts_with('-') || word.contains('=') {
                next = words.next();
            } else {
                break;
            }
        }
        name = next?.rsplit('/').next().unwrap_or_default();
    }
    Some((name, words))
}

/// Whether a first line is a shebang for Python (`#!/usr/bin/python3`, `#!/usr/bin/env python`).
pub fn is_python_shebang(line: &str) -> bool {
    shebang_program(line).is_some_and(|(name, _)| is_python_name(name))
}

/// The language a script's first line names as its interpreter, if it is one we read: a shell or
/// Python (`None` for no shebang or another interpreter).
pub fn of_shebang(first_line: &str) -> Option<Language> {
    let line = first_line.trim_end_matches('\r');
    if is_shell_shebang(line) {
        Some(Language::Shell)
    } else if is_python_shebang(line) {
        Some(Language::Python)
    } else {
        None
    }
}

/// The programs that run POSIX-family shell code.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ksh", "zsh", "ash", "mksh", "yash"];

/// Whether a program name (without its directory) is a POSIX-family shell.
pub fn is_shell_name(name: &str) -> bool {
    SHELLS.contains(&name)
}

/// Whether a first line is a shebang for a POSIX-family shell, directly (`#!/bin/sh`,
/// `#!/bin/busybox sh`) or through `env` (`#!/usr/bin/env bash`, `#!/usr/bin/env -S bash -e`).
pub fn is_shell_shebang(line: &str) -> bool {
    let Some((name, mut words)) = shebang_program(line) else {
        return false;
    };
    if name == "busybox" {
        return words
            .next()
            .is_some_and(|applet| applet == "sh" || applet == "ash");
    }
    is_shell_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        for line in [
            "#!/bin/sh",
            "#!/bin/bash -e",
            "#! /bin/dash",
            "#!/usr/bin/env bash",
            "#!/usr/bin/env -S bash -eu",
            "#!/bin/busybox sh",
            "#!/bin/ash",
            "#!/usr/bin/zsh",
            "#!/bin/ksh",
        ] {
            assert!(is_shell_shebang(line), "{line}");
        }
        for line in [
            "#!/usr/bin/python3",
            "#!/usr/bin/env python3",
            "# not a shebang",
            "#!",
            "#!/usr/bin/env",
            "#!/bin/busybox wget",
        ] {
            assert!(!is_shell_shebang(line), "{line}");
        }
    }

    #[test]
    fn powershell_names_and_shebangs() {
        for name in [
            "powershell",
            "powershell.exe",
            "pwsh",
            "PowerShell.exe",
            "PWSH",
        ] {
            assert!(is_powershell_name(name), "{name}");
        }
        for name in ["sh", "powershell_ise", "pwsh7", "cmd.exe"] {
            assert!(!is_powershell_name(name), "{name}");
        }
        for line in [
            "#!/usr/bin/pwsh",
            "#!/usr/bin/env pwsh",
            "#!/usr/bin/env -S pwsh -NoProfile",
        ] {
            assert!(is_powershell_shebang(line), "{line}");
        }
        for line in ["#!/bin/sh", "#!/usr/bin/env python3", "# pwsh"] {
            assert!(!is_powershell_shebang(line), "{line}");
        }
    }

    #[test]
    fn python_shebangs() {
        for line in [
            "#!/usr/bin/python3",
            "#!/usr/bin/python",
            "#!/usr/bin/env python3",
            "#!/usr/bin/env -S python3 -u",
            "#!/usr/local/bin/python3.11",
            "#!/usr/bin/python2.7",
        ] {
            assert!(is_python_shebang(line), "{line}");
        }
        for line in [
            "#!/bin/sh",
            "#!/usr/bin/env bash",
            "#!/usr/bin/pythonista",
            "#!/usr/bin/env",
            "# python3",
        ] {
            assert!(!is_python_shebang(line), "{line}");
        }
    }
}
