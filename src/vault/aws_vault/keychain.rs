//! aws-vault's macOS keychain (`~/Library/Keychains/aws-vault.keychain-db` unless renamed):
//! its generic passwords of service `aws-vault`, one per key (the account), each the
//! credentials' JSON. macOS asks to unlock that keychain and to allow broker to read each item.

use std::path::Path;

use security_framework::item::{ItemClass, ItemSearchOptions, Limit};
use security_framework::os::macos::item::ItemSearchOptionsExt;
use security_framework::os::macos::keychain::SecKeychain;
use security_framework::os::macos::passwords::find_generic_password;
use zeroize::Zeroizing;

use super::{AwsVaultError, Raw};

const SERVICE: &str = "aws-vault";

pub(super) fn items(path: &Path) -> Result<Vec<Raw>, AwsVaultError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let fail = |e: security_framework::base::Error| AwsVaultError::Store {
        store: "keychain",
        detail: format!("{}: {e}", path.display()),
    };
    let keychain = SecKeychain::open(path).map_err(fail)?;
    let keychains = [keychain];
    let found = ItemSearchOptions::new()
        .class(ItemClass::generic_password())
        .keychains(&keychains)
        .service(SERVICE)
        .load_attributes(true)
        .limit(Limit::All)
        .search();
    let results = match found {
        Ok(results) => results,
        // errSecItemNotFound: an empty keychain.
        Err(e) if e.code() == -25300 => return Ok(Vec::new()),
        Err(e) => return Err(fail(e)),
    };
    let mut accounts: Vec<String> = results
        .iter()
        .filter_map(|r| r.simplify_dict()?.remove("acct"))
        .collect();
    accounts.sort();
    accounts.dedup();
    let mut raws = Vec::new();
    for account in accounts {
        let (password, _) =
            find_generic_password(Some(&keychains), SERVICE, &account).map_err(fail)?;
        raws.push(Raw {
            key: account,
            data: Zeroizing::new(password.as_ref().to_vec()),
            wrapped: false,
        });
    }
    Ok(raws)
}
