//! aws-vault's Secret Service collection (`awsvault` unless renamed), found by its label or by
//! its object path (`/org/freedesktop/secrets/collection/NAME`), unlocked (a desktop may ask),
//! and read item by item: the item's `profile` attribute (else its label) is aws-vault's key,
//! its secret a keyring item.

use dbus_secret_service::{EncryptionType, SecretService};
use zeroize::Zeroizing;

use super::{AwsVaultError, Raw};

pub(super) fn items(collection: &str) -> Result<Vec<Raw>, AwsVaultError> {
    let fail = |e: dbus_secret_service::Error| AwsVaultError::Store {
        store: "secret-service",
        detail: e.to_string(),
    };
    let service = SecretService::connect(EncryptionType::Dh).map_err(fail)?;
    let path = format!(
        "/org/freedesktop/secrets/collection/{}",
        object_path_name(collection)
    );
    let mut found = None;
    for candidate in service.get_all_collections().map_err(fail)? {
        if *candidate.path == *path || candidate.get_label().map_err(fail)? == collection {
            found = Some(candidate);
            break;
        }
    }
    let Some(found) = found else {
        return Ok(Vec::new());
    };
    found.ensure_unlocked().map_err(fail)?;
    let mut raws = Vec::new();
    for item in found.get_all_items().map_err(fail)? {
        let key = match item.get_attributes().map_err(fail)?.remove("profile") {
            Some(key) => key,
            None => item.get_label().map_err(fail)?,
        };
        raws.push(Raw {
            key,
            data: Zeroizing::new(item.get_secret().map_err(fail)?),
            wrapped: true,
        });
    }
    Ok(raws)
}

/// A collection's name as a D-Bus object path element: letters, digits and `_` kept, every
/// other byte `_XX` (as gnome-keyring and aws-vault's keyring library write it).
fn object_path_name(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("_{b:02x}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_become_object_path_elements() {
        assert_eq!(super::object_path_name("awsvault"), "awsvault");
        assert_eq!(super::object_path_name("aws-vault"), "aws_2dvault");
    }
}
