//! Terraform (`.tf`, tree-sitter-hcl): `user_data` and `user_data_base64` arguments.

use super::Parsed;
use crate::fragment::HostId;

pub fn parse(_bytes: &[u8], _host: HostId) -> Parsed {
    Parsed::default()
}
