//! Ansible findings carry where they came from in the JSON output: the task's module and `name`
//! (`ansible-task`), whether its code is a host of its own (a `shell` string), read in place (a
//! `command` argv, Jinja in a `shell` string) or a `uri`/`get_url` request (loop items too).

use std::process::Command;

#[test]
fn ansible_findings_carry_the_task_as_their_origin_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let playbook = dir.path().join("site.yml");
    std::fs::write(
        &playbook,
        "- hosts: all\n  tasks:\n    - name: Plain\n      shell: curl -s http://169.254.169.254/latest/meta-data/ami-id\n    - name: Jinja\n      shell: \"curl -s http://169.254.169.254/latest/meta-data/{{ what }}\"\n    - name: Argv\n      ansible.builtin.command:\n        argv: [curl, http://169.254.169.254/latest/meta-data/hostname]\n    - name: Looped\n      uri:\n        url: \"{{ item }}\"\n      loop:\n        - http://169.254.169.254/latest/meta-data/instance-id\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_imds-lint"))
        .args(["--format", "json"])
        .arg(&playbook)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut seen: Vec<(u64, String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let origin = &f["origin"][0];
            assert_eq!(origin["layer"], "ansible-task", "{f}");
            (
                f["line"].as_u64().unwrap(),
                origin["key"].as_str().unwrap().to_owned(),
                origin["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let expected = [
        (4, "shell", "Plain"),
        (6, "shell", "Jinja"),
        (9, "ansible.builtin.command", "Argv"),
        (14, "uri", "Looped"),
    ];
    let expected: Vec<(u64, String, String)> = expected
        .iter()
        .map(|(l, k, n)| (*l, (*k).to_owned(), (*n).to_owned()))
        .collect();
    assert_eq!(seen, expected);
}
