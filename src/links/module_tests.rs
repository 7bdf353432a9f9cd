use super::*;
use crate::model::links::{LinkedSetting, NamedUserData};
use crate::model::setting::{MetadataSetting, Source};
use crate::model::Related;
use crate::source::FileSpan;

#[test]
fn names_resolve_in_files_of_the_same_directory_only() {
    let source = crate::source::SourceFile::new(PathBuf::from("m/main.tf"), vec![b'x'; 8]);
    let place = Related::at(&source, FileSpan::new(1, 2), "here");
    let span = crate::fragment::HostSpan::new(0, 1);
    let main = FileLinks {
        settings: vec![LinkedSetting {
            object: None,
            files: Vec::new(),
            symbols: vec![
                "local.boot".to_owned(),
                "data.cloudinit_config.gone".to_owned(),
            ],
            launched_as: None,
            variables: Vec::new(),
            setting: MetadataSetting::new(Source::Terraform, "aws_instance", "a", 0, span),
            span: FileSpan::new(1, 2),
            line: 3,
            place: place.clone(),
        }],
        ..FileLinks::default()
    };
    let definition = |sites: Vec<Site>| FileLinks {
        definitions: vec![NamedUserData {
            symbol: "local.boot".to_owned(),
            sites,
            files: vec![PathBuf::from("m/extra.sh")],
            runtime: Some("docker"),
        }],
        ..FileLinks::default()
    };
    let site = Site {
        span: FileSpan::new(5, 6),
        line: 9,
        fixable: false,
        place,
    };
    // Same name in another module (directory): not this module's.
    let elsewhere = definition(vec![site.clone()]);
    let locals = definition(vec![site]);
    let files = [
        LinkFile {
            path: Path::new("m/main.tf"),
            links: &main,
            runtime: None,
        },
        LinkFile {
            path: Path::new("other/locals.tf"),
            links: &elsewhere,
            runtime: None,
        },
        LinkFile {
            path: Path::new("./m/locals.tf"),
            links: &locals,
            runtime: None,
        },
    ];
    let named = |p: &Path| match p.to_str() {
        Some("m/extra.sh") => Named::Clean { runtime: None },
        _ => Named::Unread,
    };
    let external = link(&files, &named);
    let boot = &external[0].boots[0];
    assert_eq!(boot.tokenless, ["./m/locals.tf:9"]);
    assert_eq!(boot.scripts, ["./m/locals.tf", "m/extra.sh"]);
    assert_eq!(
        boot.unread.as_deref(),
        Some("`data.cloudinit_config.gone` is not defined in the scanned files of its module")
    );
    assert_eq!(
        boot.containers.as_deref(),
        Some("its user data file `locals.tf` mentions `docker`")
    );
    assert!(external[1].booted_by.is_empty());
    assert_eq!(external[2].booted_by.len(), 1);
}
