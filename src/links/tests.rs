use super::*;
use crate::model::links::{LinkedSetting, ObjectRef};
use crate::model::setting::{MetadataSetting, Source};
use crate::model::Related;
use crate::source::FileSpan;

#[test]
fn applications_concern_settings_of_their_directory_tree() {
    use crate::model::summary::{Application, SettingSummary};
    let setting = |path: &str, tokenless: usize| SettingSummary {
        path: path.to_owned(),
        line: 1,
        resource: "aws_instance".to_owned(),
        name: "web".to_owned(),
        http_tokens: Some("optional".to_owned()),
        can_require: tokenless == 0,
        boot_scripts: Vec::new(),
        tokenless_requests: tokenless,
        fixable: 0,
        unseen: None,
        applications: Vec::new(),
    };
    let app = |path: &str| {
        (
            PathBuf::from(path),
            Application {
                path: path.to_owned(),
                line: 1,
                code: "IMDS020",
                message: "old".to_owned(),
            },
        )
    };
    let mut settings = vec![setting("infra/main.tf", 0), setting("other/main.tf", 0)];
    let rest = applications(
        &mut settings,
        &[
            app("infra/app/requirements.txt"),
            app("requirements.txt"),
            app("sibling/package.json"),
        ],
    );
    // Below the setting's directory, and above it (the repository root): its tree.
    assert_eq!(settings[0].applications.len(), 2);
    assert!(!settings[0].can_require);
    // The root's manifest is in every setting's tree; the sibling project's is in none.
    assert_eq!(settings[1].applications.len(), 1);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].path, "sibling/package.json");
}

#[test]
fn container_requests_concern_settings_of_their_directory_tree() {
    assert!(same_tree(
        Path::new("infra/main.tf"),
        Path::new("infra/k8s/pod.yaml")
    ));
    assert!(same_tree(
        Path::new("infra/k8s/nodes.yaml"),
        Path::new("infra/pod.yaml")
    ));
    assert!(same_tree(
        Path::new("./main.tf"),
        Path::new("app/Dockerfile")
    ));
    assert!(!same_tree(
        Path::new("tests/integration/a/main.tf"),
        Path::new("hooks/nvidia/image/run.sh")
    ));
    assert!(!same_tree(
        Path::new("infra/main.tf"),
        Path::new("app/Dockerfile")
    ));
}

#[test]
fn the_directory_index_answers_as_same_tree_does() {
    let paths = [
        "main.tf",
        "./pod.yaml",
        "infra/main.tf",
        "infra/k8s/pod.yaml",
        "infra/k8s/deep/x.yaml",
        "infra-x/pod.yaml",
        "infra x/pod.yaml",
        "app/Dockerfile",
        "tests/integration/a/main.tf",
        "hooks/nvidia/image/run.sh",
        "../outside/pod.yaml",
    ];
    let index = ByDirectory::of(paths.iter().map(Path::new));
    for setting in paths
        .iter()
        .chain(&["infra/k8s/other.tf", "new/dir/main.tf"])
    {
        let brute: Vec<usize> = (0..paths.len())
            .filter(|&i| same_tree(Path::new(setting), Path::new(paths[i])))
            .collect();
        assert_eq!(index.same_tree(Path::new(setting)), brute, "{setting}");
    }
}

fn object(kind: &str, name: &str, namespace: &str) -> ObjectRef {
    ObjectRef {
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    }
}

fn place(path: &str, start: usize) -> Related {
    let source = crate::source::SourceFile::new(PathBuf::from(path), vec![b'x'; 64]);
    Related::at(&source, FileSpan::new(start, start + 1), "here")
}

fn site(start: usize, line: usize) -> Site {
    Site {
        span: FileSpan::new(start, start + 1),
        line,
        fixable: true,
        place: place("script", start),
    }
}

fn setting(object: Option<ObjectRef>, files: &[&str], start: usize) -> LinkedSetting {
    let span = crate::fragment::HostSpan::new(0, 1);
    LinkedSetting {
        object,
        files: files.iter().map(PathBuf::from).collect(),
        symbols: Vec::new(),
        launched_as: None,
        variables: Vec::new(),
        setting: MetadataSetting::new(Source::Capa, "AWSManagedMachinePool", "pool", 0, span),
        span: FileSpan::new(start, start + 1),
        line: 7,
        place: place("setting", start),
    }
}

fn boot_data(object: ObjectRef, sites: Vec<Site>) -> crate::model::links::BootData {
    crate::model::links::BootData {
        object,
        sites,
        unread: Vec::new(),
    }
}

fn none(_: &Path) -> Named {
    Named::Unread
}

#[test]
fn capa_links_by_kind_name_and_namespace() {
    let secrets = FileLinks {
        secrets: vec![
            boot_data(object("Secret", "boot", "a"), vec![site(10, 3)]),
            boot_data(object("Secret", "boot", "b"), vec![site(20, 5)]),
        ],
        ..FileLinks::default()
    };
    let machines = FileLinks {
        machines: vec![(
            Some(object("Secret", "boot", "a")),
            Some(object("AWSManagedMachinePool", "pool", "a")),
        )],
        ..FileLinks::default()
    };
    let settings = FileLinks {
        settings: vec![
            setting(Some(object("AWSManagedMachinePool", "pool", "b")), &[], 1),
            setting(Some(object("AWSMachinePool", "pool", "a")), &[], 2),
            setting(Some(object("AWSManagedMachinePool", "pool", "a")), &[], 3),
        ],
        ..FileLinks::default()
    };
    let files = [
        LinkFile {
            path: Path::new("secret.yaml"),
            links: &secrets,
            runtime: None,
        },
        LinkFile {
            path: Path::new("machines.yaml"),
            links: &machines,
            runtime: None,
        },
        LinkFile {
            path: Path::new("pool.yaml"),
            links: &settings,
            runtime: None,
        },
    ];
    let external = link(&files, &none);
    // Only the third setting is used by the machine set, and only the Secret in `a` boots it.
    assert_eq!(
        external[2].boots,
        [Boot {
            at: FileSpan::new(3, 4),
            tokenless: vec!["secret.yaml:3".to_owned()],
            places: vec![place("script", 10)],
            fixable: 1,
            scripts: vec!["secret.yaml".to_owned()],
            unread: None,
            containers: None,
            variables: Vec::new(),
        }]
    );
    assert_eq!(external[0].booted_by.len(), 1);
    assert_eq!(external[0].booted_by[0].request, FileSpan::new(10, 11));
    assert_eq!(external[0].booted_by[0].location, "pool.yaml:7");
    assert!(external[1].is_empty());
    // Without the machine set nothing links, and the setting keeps what its own file says.
    let external = link(&[files[0], files[2]], &none);
    assert!(external.iter().all(External::is_empty));
}

#[test]
fn a_missing_secret_is_named() {
    let machines = FileLinks {
        machines: vec![(
            Some(object("Secret", "boot", "a")),
            Some(object("AWSMachineTemplate", "t", "a")),
        )],
        settings: vec![setting(
            Some(object("AWSMachineTemplate", "t", "a")),
            &[],
            1,
        )],
        ..FileLinks::default()
    };
    let files = [LinkFile {
        path: Path::new("all.yaml"),
        links: &machines,
        runtime: None,
    }];
    let external = link(&files, &none);
    assert_eq!(
        external[0].boots[0].unread.as_deref(),
        Some("its bootstrap Secret `boot` (namespace `a`) is not in the scanned tree")
    );
    assert!(external[0].boots[0].tokenless.is_empty());
}

/// A machine set of another file makes a setting's fix unsafe with a reason that names that
/// file; past a few, the reasons are counted.
#[test]
fn reasons_from_other_files_name_them_and_are_capped() {
    let template = object("AWSMachineTemplate", "${CLUSTER_NAME}-md-0", "default");
    let own = FileLinks {
        machines: vec![(
            Some(object(
                "KubeadmConfigTemplate",
                "${CLUSTER_NAME}-md-0",
                "default",
            )),
            Some(template.clone()),
        )],
        secrets: vec![boot_data(
            object("KubeadmConfigTemplate", "${CLUSTER_NAME}-md-0", "default"),
            Vec::new(),
        )],
        settings: vec![setting(Some(template.clone()), &[], 1)],
        ..FileLinks::default()
    };
    // Other templates' machine sets of the same name: without boot data, each naming another
    // missing configuration.
    let others: Vec<FileLinks> = (0..6)
        .map(|k| FileLinks {
            machines: vec![(
                Some(object("EKSConfigTemplate", &format!("gone-{k}"), "default")),
                Some(template.clone()),
            )],
            ..FileLinks::default()
        })
        .collect();
    let paths: Vec<String> = (0..6).map(|k| format!("other-{k}.yaml")).collect();
    let mut files = vec![LinkFile {
        path: Path::new("own.yaml"),
        links: &own,
        runtime: None,
    }];
    for (links, path) in others.iter().zip(&paths) {
        files.push(LinkFile {
            path: Path::new(path),
            links,
            runtime: None,
        });
    }
    let external = link(&files[..2], &none);
    assert_eq!(
        external[0].boots[0].unread.as_deref(),
        Some(
            "its bootstrap configuration EKSConfigTemplate `gone-0` (namespace `default`), named by \
             a machine set in `other-0.yaml`, is not in the scanned tree"
        )
    );
    let external = link(&files, &none);
    let unread = external[0].boots[0].unread.clone().unwrap_or_default();
    assert_eq!(
        unread.matches("is not in the scanned tree").count(),
        4,
        "{unread}"
    );
    assert!(
        unread.ends_with("; and 2 more reasons like these"),
        "{unread}"
    );
}

/// Examples in documentation (a Markdown file's code blocks) join only each other: a machine set
/// in a runbook says nothing about a template's setting, nor the template's about the runbook's.
#[test]
fn documentation_objects_join_only_their_own_file() {
    let template = object("AWSMachineTemplate", "workers", "default");
    let config = object("KubeadmConfigTemplate", "workers", "default");
    let real = FileLinks {
        secrets: vec![boot_data(config.clone(), vec![site(30, 4)])],
        settings: vec![setting(Some(template.clone()), &[], 1)],
        ..FileLinks::default()
    };
    let runbook = FileLinks {
        machines: vec![(Some(config.clone()), Some(template.clone()))],
        settings: vec![setting(Some(template.clone()), &[], 2)],
        documentation: true,
        ..FileLinks::default()
    };
    let files = [
        LinkFile {
            path: Path::new("cluster.yaml"),
            links: &real,
            runtime: None,
        },
        LinkFile {
            path: Path::new("docs/runbook.md"),
            links: &runbook,
            runtime: None,
        },
    ];
    let external = link(&files, &none);
    assert!(external[0].is_empty(), "{external:?}");
    assert!(external[1].boots[0].tokenless.is_empty());
    assert_eq!(
        external[1].boots[0].unread.as_deref(),
        Some(
            "its bootstrap configuration KubeadmConfigTemplate `workers` (namespace `default`) is \
             not in this file (examples in documentation join only each other)"
        )
    );
    // The same machine set in a real file links the template to its tokenless configuration.
    let machines = FileLinks {
        documentation: false,
        ..runbook.clone()
    };
    let files = [
        files[0],
        LinkFile {
            path: Path::new("machines.yaml"),
            links: &machines,
            runtime: None,
        },
    ];
    let external = link(&files, &none);
    assert_eq!(external[0].boots[0].tokenless, ["cluster.yaml:4"]);
}

#[test]
fn terraform_files_resolve_to_scripts_clean_files_or_nothing() {
    let main = FileLinks {
        settings: vec![setting(None, &["m/boot.sh", "m/clean.sh", "m/gone.sh"], 1)],
        ..FileLinks::default()
    };
    let script = FileLinks {
        script: vec![site(4, 2), site(9, 6)],
        ..FileLinks::default()
    };
    let files = [
        LinkFile {
            path: Path::new("m/main.tf"),
            links: &main,
            runtime: None,
        },
        LinkFile {
            path: Path::new("m/boot.sh"),
            links: &script,
            runtime: None,
        },
    ];
    let named = |p: &Path| match p.to_str() {
        Some("m/boot.sh") => Named::File(1),
        Some("m/clean.sh") => Named::Clean {
            runtime: Some("docker"),
        },
        _ => Named::Unread,
    };
    let external = link(&files, &named);
    assert_eq!(
        external[0].boots,
        [Boot {
            at: FileSpan::new(1, 2),
            tokenless: vec!["m/boot.sh:2".to_owned(), "m/boot.sh:6".to_owned()],
            places: vec![place("script", 4), place("script", 9)],
            fixable: 2,
            scripts: vec!["m/boot.sh".to_owned(), "m/clean.sh".to_owned()],
            unread: Some("its user data file `m/gone.sh` was not read".to_owned()),
            containers: Some("its user data file `clean.sh` mentions `docker`".to_owned()),
            variables: Vec::new(),
        }]
    );
    let booted: Vec<FileSpan> = external[1].booted_by.iter().map(|b| b.request).collect();
    assert_eq!(booted, [FileSpan::new(4, 5), FileSpan::new(9, 10)]);
    assert!(external[1]
        .booted_by
        .iter()
        .all(|b| b.location == "m/main.tf:7"));
}
