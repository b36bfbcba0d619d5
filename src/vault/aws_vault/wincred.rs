//! aws-vault's Windows credentials: generic credentials named `aws-vault:aws-vault:KEY` (its
//! keyring library's prefix, service name and key), each blob the credentials' JSON as UTF-8.

use windows_sys::Win32::Foundation::{GetLastError, ERROR_NOT_FOUND};
use windows_sys::Win32::Security::Credentials::{CredEnumerateW, CredFree, CREDENTIALW};
use zeroize::Zeroizing;

use super::{AwsVaultError, Raw};

const PREFIX: &str = "aws-vault:aws-vault:";

pub(super) fn items() -> Result<Vec<Raw>, AwsVaultError> {
    let filter: Vec<u16> = format!("{PREFIX}*")
        .encode_utf16()
        .chain(std::iter::once(0))
        .collect();
    let mut count = 0u32;
    let mut list: *mut *mut CREDENTIALW = std::ptr::null_mut();
    // SAFETY: the filter is a NUL-terminated UTF-16 string that outlives the call; on success
    // the system allocates `count` credential pointers in `list`, freed below with CredFree.
    let ok = unsafe { CredEnumerateW(filter.as_ptr(), 0, &mut count, &mut list) };
    if ok == 0 {
        // SAFETY: reads this thread's last error, set by the failed call.
        let error = unsafe { GetLastError() };
        if error == ERROR_NOT_FOUND {
            return Ok(Vec::new());
        }
        return Err(AwsVaultError::Store {
            store: "wincred",
            detail: std::io::Error::from_raw_os_error(error as i32).to_string(),
        });
    }
    let mut raws = Vec::new();
    for i in 0..count as usize {
        // SAFETY: `list` holds `count` valid credential pointers until CredFree; each
        // TargetName is a NUL-terminated UTF-16 string and each blob has the size given.
        let (name, blob) = unsafe {
            let credential = &**list.add(i);
            let mut len = 0;
            while *credential.TargetName.add(len) != 0 {
                len += 1;
            }
            let name =
                String::from_utf16_lossy(std::slice::from_raw_parts(credential.TargetName, len));
            let blob = if credential.CredentialBlob.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(
                    credential.CredentialBlob,
                    credential.CredentialBlobSize as usize,
                )
                .to_vec()
            };
            (name, Zeroizing::new(blob))
        };
        if let Some(key) = name.strip_prefix(PREFIX) {
            raws.push(Raw {
                key: key.to_string(),
                data: blob,
                wrapped: false,
            });
        }
    }
    // SAFETY: frees the array CredEnumerateW allocated, once, after its last use.
    unsafe { CredFree(list.cast()) };
    Ok(raws)
}
