//! Links between files of one scan: the boot code of a setting declared in one file may be in
//! another. A Cluster API `MachinePool` or `MachineDeployment` names its bootstrap `Secret` (the
//! boot script) and its infrastructure object (the `AWSManagedMachinePool`, `AWSMachinePool` or
//! `AWSMachineTemplate` that holds the instance metadata setting); a Terraform `user_data` reads a
//! script with `file()` or `templatefile()`.
//!
//! Front ends produce the facts (kinds, names, namespaces, paths); the check turns them into
//! [`FileLinks`] in file coordinates; [`link`] joins them across files into one [`External`] per
//! file, which the check of that file is given again: the setting's rules then count the boot
//! code of other files, and the requests of a boot script learn which settings boot them. Rules
//! decide, as for anything else in a file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::model::links::{
    Boot, BootData, BootedBy, External, FileLinks, LinkedSetting, NamedUserData, ObjectRef, Site,
    BOOT_KINDS,
};
use crate::model::Related;

/// The boot code of one setting found so far: the tokenless requests, by file, and the files,
/// each once, in the order found.
#[derive(Default)]
struct Found<'a> {
    sites: Vec<(usize, &'a Site)>,
    scripts: Vec<usize>,
    seen: std::collections::HashSet<(usize, crate::source::FileSpan)>,
}

impl<'a> Found<'a> {
    /// File `file` holds boot code with these tokenless requests.
    fn add(&mut self, file: usize, sites: &'a [Site]) {
        if !self.scripts.contains(&file) {
            self.scripts.push(file);
        }
        for site in sites {
            if self.seen.insert((file, site.span)) {
                self.sites.push((file, site));
            }
        }
    }
}

/// One file of the scan as [`link`] sees it.
#[derive(Clone, Copy)]
pub struct LinkFile<'a> {
    /// The path reports show.
    pub path: &'a Path,
    pub links: &'a FileLinks,
    /// The container runtime the file names, if any (`crate::model::setting::container_runtime`).
    pub runtime: Option<&'static str>,
}

/// What a path named by `file()` turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// One of the files given to [`link`] (by index).
    File(usize),
    /// Read, and without a tokenless request; with the container runtime it names, if any.
    Clean { runtime: Option<&'static str> },
    /// Not read (missing, unreadable, binary, over the size limit).
    Unread,
}

/// Joins settings to their boot code across files: CAPA machine sets to the settings of their
/// infrastructure objects and the Secrets of their bootstrap data; Terraform settings to the files
/// their user data reads (`named` says what a path is). Returns one [`External`] per file.
pub fn link(files: &[LinkFile], named: &dyn Fn(&Path) -> Named) -> Vec<External> {
    let mut out = vec![External::default(); files.len()];
    let modules = Modules::of(files);
    let objects = Objects::of(files);
    for (f, file) in files.iter().enumerate() {
        for linked in &file.links.settings {
            let mut search = Search::default();
            if let Some(object) = &linked.object {
                search.machine_sets(files, &objects, f, object);
            }
            // Names defined in another file of the same module (directory): their requests, and
            // the files they read, which are resolved as the setting's own.
            let here = modules.of_file(f);
            let mut paths: Vec<&PathBuf> = linked.files.iter().collect();
            paths.extend(search.named_user_data(files, here, &linked.symbols));
            if let Some(template) = &linked.launched_as {
                search.launch_template(files, here, template);
            }
            search.variables(files, here, &linked.variables);
            search.named_files(files, &paths, named);
            if search.found_any {
                search.record(&mut out, files, f, linked);
            }
        }
    }
    let container = container_requests(files, named);
    let by_directory = ByDirectory::of(container.iter().map(|(_, r)| r.path.as_path()));
    let applications: Vec<(usize, &Related)> = files
        .iter()
        .enumerate()
        .flat_map(|(f, file)| file.links.applications.iter().map(move |r| (f, r)))
        .collect();
    let applications_by_directory =
        ByDirectory::of(applications.iter().map(|(_, r)| r.path.as_path()));
    for (f, (file, external)) in files.iter().zip(&mut out).enumerate() {
        if file.links.declares_settings {
            external.container_requests = by_directory
                .same_tree(file.path)
                .into_iter()
                .filter_map(|i| container.get(i))
                .filter(|(from, _)| *from != Some(f))
                .map(|(_, r)| r.clone())
                .collect();
            external.applications = applications_by_directory
                .same_tree(file.path)
                .into_iter()
                .filter_map(|i| applications.get(i))
                .filter(|(from, _)| *from != f)
                .map(|(_, r)| (*r).clone())
                .collect();
        }
    }
    out
}

/// The Cluster API objects of the scan, indexed once: the machine sets by their infrastructure
/// object, the boot data (bootstrap Secrets and configurations) by object, each with its file.
/// A setting's search costs what it finds, not the number of objects in the scan.
#[derive(Default)]
struct Objects<'a> {
    /// `(file, what the machines boot from)` by infrastructure object.
    machine_sets: HashMap<&'a ObjectRef, Vec<(usize, Option<&'a ObjectRef>)>>,
    boot: HashMap<&'a ObjectRef, Vec<(usize, &'a BootData)>>,
}

impl<'a> Objects<'a> {
    fn of(files: &'a [LinkFile]) -> Self {
        let mut objects = Objects::default();
        for (f, file) in files.iter().enumerate() {
            for (boot, infra) in &file.links.machines {
                if let Some(infra) = infra {
                    objects
                        .machine_sets
                        .entry(infra)
                        .or_default()
                        .push((f, boot.as_ref()));
                }
            }
            for data in &file.links.secrets {
                objects
                    .boot
                    .entry(&data.object)
                    .or_default()
                    .push((f, data));
            }
        }
        objects
    }
}

/// The files of each module (directory), computed once: a setting looks for names, launch
/// templates and variables among the files of its own module only, so a scan of many modules
/// costs what its modules cost, not their product.
struct Modules {
    /// The module of each file, by index.
    of: Vec<Option<PathBuf>>,
    /// The files of each module, in order.
    members: std::collections::HashMap<Option<PathBuf>, Vec<usize>>,
}

impl Modules {
    fn of(files: &[LinkFile]) -> Self {
        let of: Vec<Option<PathBuf>> = files.iter().map(module).collect();
        let mut members: std::collections::HashMap<Option<PathBuf>, Vec<usize>> =
            std::collections::HashMap::new();
        for (f, module) in of.iter().enumerate() {
            members.entry(module.clone()).or_default().push(f);
        }
        Modules { of, members }
    }

    /// The module of file `f`, with the files in it.
    fn of_file(&self, f: usize) -> Module<'_> {
        let module = self.of.get(f).and_then(|m| m.as_ref());
        Module {
            members: self
                .members
                .get(&module.cloned())
                .map_or(&[][..], Vec::as_slice),
        }
    }
}

/// The files of one module, by index.
#[derive(Clone, Copy)]
struct Module<'m> {
    members: &'m [usize],
}

impl<'m> Module<'m> {
    /// The files of the module, with their index.
    fn files<'f, 'l>(
        self,
        files: &'f [LinkFile<'l>],
    ) -> impl Iterator<Item = (usize, &'f LinkFile<'l>)> + 'f
    where
        'm: 'f,
    {
        self.members
            .iter()
            .filter_map(move |&g| files.get(g).map(|file| (g, file)))
    }
}

/// Paths indexed by their directory, for [`same_tree`] questions asked of many settings: the
/// directory's subtree is a range of the sorted keys and its ancestors are a few lookups, so each
/// question costs what it finds.
struct ByDirectory {
    dirs: std::collections::BTreeMap<PathBuf, Vec<usize>>,
}

impl ByDirectory {
    fn of<'p>(paths: impl Iterator<Item = &'p Path>) -> Self {
        let mut dirs: std::collections::BTreeMap<PathBuf, Vec<usize>> =
            std::collections::BTreeMap::new();
        for (i, path) in paths.enumerate() {
            dirs.entry(directory(path)).or_default().push(i);
        }
        ByDirectory { dirs }
    }

    /// The indices of the paths in the same tree as `setting` ([`same_tree`]), in order.
    fn same_tree(&self, setting: &Path) -> Vec<usize> {
        let dir = directory(setting);
        let mut found: Vec<usize> = self
            .dirs
            .range(dir.clone()..)
            .take_while(|(d, _)| d.starts_with(&dir))
            .flat_map(|(_, i)| i.iter().copied())
            .collect();
        for ancestor in dir.ancestors().skip(1) {
            found.extend(self.dirs.get(ancestor).into_iter().flatten().copied());
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// The directory of a path, lexically normalized (`walk::lexical`).
fn directory(path: &Path) -> PathBuf {
    crate::walk::lexical(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Gives each setting summary the application evidence (IMDS020, IMDS021 findings, with the
/// path of their file) in its directory tree, by the rule that ties container requests to
/// settings (`same_tree`), and decides again whether it can require tokens. Returns the
/// evidence no setting took (all of it when the scan declares no setting).
pub fn applications(
    settings: &mut [crate::model::summary::SettingSummary],
    evidence: &[(PathBuf, crate::model::summary::Application)],
) -> Vec<crate::model::summary::Application> {
    let mut taken = vec![false; evidence.len()];
    let by_directory = ByDirectory::of(evidence.iter().map(|(path, _)| path.as_path()));
    for setting in settings.iter_mut() {
        for i in by_directory.same_tree(Path::new(&setting.path)) {
            if let (Some((_, application)), Some(taken)) = (evidence.get(i), taken.get_mut(i)) {
                setting.applications.push(application.clone());
                *taken = true;
            }
        }
        setting.decide();
    }
    evidence
        .iter()
        .zip(taken)
        .filter(|(_, taken)| !taken)
        .map(|((_, a), _)| a.clone())
        .collect()
}

/// Whether a container-side request in `request` concerns the settings of `setting`: one file is
/// in the other's directory or below it (a project's infrastructure and the manifests or images
/// beside or under it), not in a sibling tree of a monorepo (another project, its tests).
#[cfg(test)]
fn same_tree(setting: &Path, request: &Path) -> bool {
    let (setting, request) = (directory(setting), directory(request));
    request.starts_with(&setting) || setting.starts_with(&request)
}

/// The metadata requests made from inside containers in the whole scan (documentation's examples aside), each with the file whose
/// own link facts hold it (`None` for a script a container of another file runs): requests in a
/// container's own command, and the requests of the scripts that containers run.
fn container_requests(
    files: &[LinkFile],
    named: &dyn Fn(&Path) -> Named,
) -> Vec<(Option<usize>, Related)> {
    let mut out: Vec<(Option<usize>, Related)> = Vec::new();
    for (f, file) in files
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.links.documentation)
    {
        out.extend(
            file.links
                .container_requests
                .iter()
                .map(|r| (Some(f), r.clone())),
        );
        for path in &file.links.container_scripts {
            let Named::File(g) = named(path) else {
                continue;
            };
            let Some(script) = files.get(g) else {
                continue;
            };
            for request in &script.links.script_requests {
                let related = Related {
                    message: format!(
                        "a container of `{}` runs this script, which requests instance metadata here",
                        file.path.display()
                    ),
                    ..request.clone()
                };
                if !out
                    .iter()
                    .any(|(_, r)| r.path == related.path && r.span == related.span)
                {
                    out.push((None, related));
                }
            }
        }
    }
    out
}

/// The directory of a file: Terraform's module.
fn module(file: &LinkFile) -> Option<PathBuf> {
    crate::walk::lexical(file.path)
        .parent()
        .map(Path::to_path_buf)
}

/// `path:line` of a line of one of the files.
fn location(files: &[LinkFile], file: usize, line: usize) -> String {
    format!(
        "{}:{line}",
        files.get(file).map_or(Path::new(""), |f| f.path).display()
    )
}

/// How many reasons why boot code was not read a setting's fix states, at most (then how many
/// more): enough to act on, and a message stays short however many files share a name.
const MAX_REASONS: usize = 4;

/// What the search for one setting's boot code found in the other files.
#[derive(Default)]
struct Search<'a> {
    /// The boot code in other files, as (file, site) pairs.
    found: Found<'a>,
    /// Files read without a tokenless request, not among the files given to [`link`].
    clean: Vec<String>,
    /// Why some boot code was not found.
    unread: Vec<String>,
    /// Whether anything names boot code for the setting at all.
    found_any: bool,
    /// Why the instances run containers, if something says so.
    containers: Option<String>,
    /// The declarations of the input variables the setting's values read.
    declared: Vec<crate::model::setting::Variable>,
}

impl<'a> Search<'a> {
    /// The boot data (bootstrap Secrets and configurations) of the machine sets whose
    /// infrastructure object is `object`, which file `from` declares (CAPA). Objects are joined
    /// by kind, name and namespace across the scan, also where a name holds a template variable
    /// (`${CLUSTER_NAME}-md-0`, which every `clusterctl` template may use): a machine set or a
    /// patch of another file may be what boots these instances, so its boot code counts, and a
    /// reason that comes from another file names it.
    fn machine_sets(
        &mut self,
        files: &[LinkFile],
        objects: &Objects<'a>,
        from: usize,
        object: &ObjectRef,
    ) {
        let Some(sets) = objects.machine_sets.get(object) else {
            return;
        };
        // Examples in documentation join only each other, in their own file.
        let joins = |g: usize| {
            let documentation = |f: usize| files.get(f).is_some_and(|f| f.links.documentation);
            g == from || !(documentation(g) || documentation(from))
        };
        // Many machine sets may name one configuration (templates sharing a name): its boot
        // data is taken once.
        let mut taken: std::collections::HashSet<&ObjectRef> = std::collections::HashSet::new();
        for &(set_file, boot) in sets.iter().filter(|(g, _)| joins(*g)) {
            self.found_any = true;
            let elsewhere = || match files.get(set_file) {
                Some(file) if set_file != from => format!(" in `{}`", file.path.display()),
                _ => String::new(),
            };
            if boot.is_some_and(|boot| taken.contains(boot)) {
                continue;
            }
            let Some(boot) = boot else {
                let elsewhere = elsewhere();
                self.unread.push(format!(
                    "a machine set{elsewhere} that uses it names neither a bootstrap Secret nor a bootstrap configuration"
                ));
                continue;
            };
            let data: Vec<&(usize, &BootData)> = objects
                .boot
                .get(boot)
                .into_iter()
                .flatten()
                .filter(|(g, _)| joins(*g))
                .collect();
            for &&(g, data) in &data {
                self.found.add(g, &data.sites);
                self.unread.extend(data.unread.iter().cloned());
            }
            if !data.is_empty() {
                taken.insert(boot);
                continue;
            }
            let elsewhere = elsewhere();
            let named_by = if elsewhere.is_empty() {
                String::new()
            } else {
                format!(", named by a machine set{elsewhere},")
            };
            if !BOOT_KINDS.contains(&boot.kind.as_str()) {
                self.unread.push(format!(
                    "its bootstrap configuration {} `{}` (namespace `{}`){named_by} is of a kind imds-lint does not read",
                    boot.kind, boot.name, boot.namespace
                ));
            } else {
                let what = match boot.kind.as_str() {
                    "Secret" => "Secret".to_owned(),
                    kind => format!("configuration {kind}"),
                };
                let missing = if files.get(from).is_some_and(|f| f.links.documentation) {
                    "is not in this file (examples in documentation join only each other)"
                } else {
                    "is not in the scanned tree"
                };
                self.unread.push(format!(
                    "its bootstrap {what} `{}` (namespace `{}`){named_by} {missing}",
                    boot.name, boot.namespace
                ));
            }
        }
    }

    /// The user data named by `symbols`, defined in a file of the module `here`; returns the
    /// files those definitions read.
    fn named_user_data(
        &mut self,
        files: &'a [LinkFile],
        here: Module,
        symbols: &[String],
    ) -> Vec<&'a PathBuf> {
        let mut paths = Vec::new();
        for symbol in symbols {
            self.found_any = true;
            // Terraform defines a name once in a module; every `build` block of a Packer
            // directory that names a source gives it boot code.
            let definitions: Vec<(usize, &NamedUserData)> = here
                .files(files)
                .flat_map(|(g, other)| {
                    other
                        .links
                        .definitions
                        .iter()
                        .filter(|d| &d.symbol == symbol)
                        .map(move |d| (g, d))
                })
                .collect();
            if definitions.is_empty() {
                self.unread.push(if symbol.starts_with("source.") {
                    format!("no `build` in the scanned files of its directory names `{symbol}`")
                } else {
                    format!("`{symbol}` is not defined in the scanned files of its module")
                });
            }
            for (g, definition) in definitions {
                self.found.add(g, &definition.sites);
                if let Some(runtime) = definition.runtime {
                    let name = files.get(g).map_or(Path::new(""), |f| f.path);
                    self.containers.get_or_insert(mentions(name, runtime));
                }
                paths.extend(&definition.files);
            }
        }
        paths
    }

    /// Instances launched from the launch template `template` with their own user data boot
    /// with its setting; resources that run containers on its instances make them container
    /// hosts (files of the module `here`).
    fn launch_template(&mut self, files: &'a [LinkFile], here: Module, template: &str) {
        for (g, other) in here.files(files) {
            let boots = other.links.template_boots.iter();
            for (_, boot) in boots.filter(|(t, _)| t == template) {
                self.found_any = true;
                self.found.add(g, boot);
            }
            let users = other.links.container_users.iter();
            for (_, user) in users.filter(|(t, _)| t == template) {
                self.found_any = true;
                self.containers
                    .get_or_insert(format!("{user} in {} uses it", other.path.display()));
            }
        }
    }

    /// The declarations of the input variables `names` in the files of the module `here`.
    fn variables(&mut self, files: &'a [LinkFile], here: Module, names: &[String]) {
        for name in names {
            self.found_any = true;
            let declared = here
                .files(files)
                .flat_map(|(_, o)| &o.links.variables)
                .find(|v| &v.name == name);
            if let Some(variable) = declared {
                if !self.declared.contains(variable) {
                    self.declared.push(variable.clone());
                }
            }
        }
    }

    /// The files the user data reads (`file()`), as `named` says they turned out.
    fn named_files(
        &mut self,
        files: &'a [LinkFile],
        paths: &[&PathBuf],
        named: &dyn Fn(&Path) -> Named,
    ) {
        for path in paths {
            self.found_any = true;
            match named(path) {
                Named::File(g) => {
                    self.found
                        .add(g, files.get(g).map_or(&[][..], |o| &o.links.script));
                    if let Some(runtime) = files.get(g).and_then(|f| f.runtime) {
                        self.containers.get_or_insert(mentions(path, runtime));
                    }
                }
                Named::Clean { runtime } => {
                    self.clean
                        .push(crate::walk::lexical(path).display().to_string());
                    if let Some(runtime) = runtime {
                        self.containers.get_or_insert(mentions(path, runtime));
                    }
                }
                Named::Unread => self.unread.push(format!(
                    "its user data file `{}` was not read",
                    path.display()
                )),
            }
        }
    }

    /// Tells the setting's file (file `f`) what boot code it has elsewhere, and each file with
    /// boot code which setting boots it.
    fn record(
        mut self,
        out: &mut [External],
        files: &[LinkFile],
        f: usize,
        linked: &LinkedSetting,
    ) {
        let mut seen = std::collections::HashSet::new();
        self.unread.retain(|why| seen.insert(why.clone()));
        // A name many files share may give many reasons: the first few, and how many more.
        let more = self.unread.len().saturating_sub(MAX_REASONS);
        self.unread.truncate(MAX_REASONS);
        if more > 0 {
            self.unread.push(format!(
                "and {more} more reason{} like these",
                if more == 1 { "" } else { "s" }
            ));
        }
        let setting_location = location(files, f, linked.line);
        let Found { sites, scripts, .. } = self.found;
        for (g, site) in &sites {
            if let Some(external) = out.get_mut(*g) {
                let booted = BootedBy {
                    request: site.span,
                    setting: linked.setting.clone(),
                    location: setting_location.clone(),
                    place: linked.place.clone(),
                };
                if !external.booted_by.contains(&booted) {
                    external.booted_by.push(booted);
                }
            }
        }
        let boot = Boot {
            at: linked.span,
            tokenless: sites
                .iter()
                .map(|(g, s)| location(files, *g, s.line))
                .collect(),
            places: sites.iter().map(|(_, s)| s.place.clone()).collect(),
            fixable: sites.iter().filter(|(_, s)| s.fixable).count(),
            scripts: scripts
                .iter()
                .map(|g| files.get(*g).map_or(Path::new(""), |f| f.path))
                .map(|p| p.display().to_string())
                .chain(self.clean)
                .collect(),
            unread: (!self.unread.is_empty()).then(|| self.unread.join("; ")),
            containers: self.containers,
            variables: self.declared,
        };
        if let Some(external) = out.get_mut(f) {
            external.boots.push(boot);
        }
    }
}

/// Why a file's instances run containers: the user data file names a runtime.
fn mentions(path: &Path, runtime: &str) -> String {
    let name = path.file_name().unwrap_or(path.as_os_str());
    format!(
        "its user data file `{}` mentions `{runtime}`",
        Path::new(name).display()
    )
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod module_tests;
