//! Which language a piece of code is in, from what names its interpreter: a shebang line or a
//! program name. Front ends use it to classify scripts and user data, the shell analysis to see
//! a shell started by a command (`sh -c`).

/// The programs that run POSIX-family shell code.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ksh", "zsh", "ash", "mksh", "yash"];

/// Whether a program name (without its directory) is a POSIX-family shell.
pub fn is_shell_name(name: &str) -> bool {
    SHELLS.contains(&name)
}

/// Whether a first line is a shebang for a POSIX-family shell, directly (`#!/bin/sh`,
/// `#!/bin/busybox sh`) or through `env` (`#!/usr/bin/env bash`, `#!/usr/bin/env -S bash -e`).
pub fn is_shell_shebang(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("#!") else {
        return false;
    };
    let mut words = rest.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
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
        let Some(program) = next else {
            return false;
        };
        name = program.rsplit('/').next().unwrap_or_default();
    }
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
}
