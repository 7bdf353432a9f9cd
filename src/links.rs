//! Links between objects in different files of one scan: a Cluster API `MachinePool` or
//! `MachineDeployment` names its bootstrap `Secret` (the boot script) and its infrastructure object
//! (the `AWSManagedMachinePool`, `AWSMachinePool` or `AWSMachineTemplate` that holds the instance
//! metadata setting). Front ends produce the facts (kinds, names, namespaces); the check turns them
//! into [`FileLinks`] in file coordinates; [`link`] joins them across files; the rule decides.

use crate::check::OriginEntry;
use crate::settings::MetadataSetting;
use crate::source::FileSpan;

/// A Kubernetes object by kind, name and namespace (`default` when the manifest names none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

/// What a front end learns about links in one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// A Secret whose `value` (the `Parsed`'s `embedded[embedded]`) may be a bootstrap script.
    BootSecret { object: ObjectRef, embedded: usize },
    /// A `MachinePool` / `MachineDeployment`: its bootstrap Secret and infrastructure object.
    Machines {
        namespace: String,
        data_secret: Option<String>,
        infra: Option<ObjectRef>,
    },
    /// An infrastructure object that declares the setting `Parsed.settings[setting]`.
    Infra { object: ObjectRef, setting: usize },
}

/// A tokenless request (IMDS001) in a boot Secret, in file coordinates.
#[derive(Debug, Clone)]
pub struct Site {
    pub span: FileSpan,
    pub line: usize,
    pub origin: Vec<OriginEntry>,
    pub decoded: Option<String>,
    /// Whether IMDS012 is suppressed there.
    pub suppressed: bool,
    /// Whether `--fix` rewrites it (a safe IMDS001 fix).
    pub fixable: bool,
}

/// A setting that can be linked from another file, in file coordinates.
#[derive(Debug, Clone)]
pub struct LinkedSetting {
    pub object: ObjectRef,
    pub setting: MetadataSetting,
    /// The tokens value (or the resource head) in the file, and its line.
    pub span: FileSpan,
    pub line: usize,
    /// Whether IMDS012 is suppressed there.
    pub suppressed: bool,
}

/// The link facts of one checked file.
#[derive(Debug, Clone, Default)]
pub struct FileLinks {
    pub secrets: Vec<(ObjectRef, Vec<Site>)>,
    /// `(namespace, bootstrap Secret name, infrastructure object)`.
    pub machines: Vec<(String, Option<String>, Option<ObjectRef>)>,
    pub settings: Vec<LinkedSetting>,
}

impl FileLinks {
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.machines.is_empty() && self.settings.is_empty()
    }
}

/// A setting joined to the boot Secrets its instances run: `(file, setting)` and
/// `(file, secret)` indices into the slice given to [`link`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub setting: (usize, usize),
    pub secrets: Vec<(usize, usize)>,
}

/// Joins machine sets to the settings of their infrastructure objects and the Secrets of their
/// bootstrap data, across all files.
pub fn link(files: &[&FileLinks]) -> Vec<Linked> {
    let mut out: Vec<Linked> = Vec::new();
    for file in files {
        for (namespace, secret, infra) in &file.machines {
            let (Some(secret), Some(infra)) = (secret, infra) else {
                continue;
            };
            let secrets: Vec<(usize, usize)> = files
                .iter()
                .enumerate()
                .flat_map(|(f, links)| {
                    links
                        .secrets
                        .iter()
                        .enumerate()
                        .filter(|(_, (o, _))| &o.name == secret && &o.namespace == namespace)
                        .map(move |(s, _)| (f, s))
                })
                .collect();
            for (f, links) in files.iter().enumerate() {
                for (s, linked) in links.settings.iter().enumerate() {
                    if &linked.object != infra {
                        continue;
                    }
                    match out.iter_mut().find(|l| l.setting == (f, s)) {
                        Some(existing) => {
                            for pair in &secrets {
                                if !existing.secrets.contains(pair) {
                                    existing.secrets.push(*pair);
                                }
                            }
                        }
                        None => out.push(Linked {
                            setting: (f, s),
                            secrets: secrets.clone(),
                        }),
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Source;

    fn object(kind: &str, name: &str, namespace: &str) -> ObjectRef {
        ObjectRef {
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        }
    }

    fn setting(kind: &str, name: &str, namespace: &str) -> LinkedSetting {
        let span = crate::fragment::HostSpan::new(0, 1);
        LinkedSetting {
            object: object(kind, name, namespace),
            setting: MetadataSetting::new(Source::Capa, kind, name, 0, span),
            span: FileSpan::new(0, 1),
            line: 1,
            suppressed: false,
        }
    }

    #[test]
    fn links_by_kind_name_and_namespace() {
        let secrets = FileLinks {
            secrets: vec![
                (object("Secret", "boot", "a"), Vec::new()),
                (object("Secret", "boot", "b"), Vec::new()),
            ],
            ..FileLinks::default()
        };
        let machines = FileLinks {
            machines: vec![(
                "a".to_owned(),
                Some("boot".to_owned()),
                Some(object("AWSManagedMachinePool", "pool", "a")),
            )],
            ..FileLinks::default()
        };
        let settings = FileLinks {
            settings: vec![
                setting("AWSManagedMachinePool", "pool", "b"),
                setting("AWSMachinePool", "pool", "a"),
                setting("AWSManagedMachinePool", "pool", "a"),
            ],
            ..FileLinks::default()
        };
        assert_eq!(
            link(&[&secrets, &machines, &settings]),
            [Linked {
                setting: (2, 2),
                secrets: vec![(0, 0)],
            }]
        );
        // Without a machine set, nothing links.
        assert!(link(&[&secrets, &settings]).is_empty());
    }
}
