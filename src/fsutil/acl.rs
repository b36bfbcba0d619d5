//! Windows: directories private to the user through their ACL, what mode `0700` is on Unix;
//! and the check that a system file (the system policy) only administrators can change.
//!
//! Each directory broker creates gets a protected DACL (nothing inherited from its parent)
//! granting full control to the current user and to SYSTEM, inherited by every file and
//! directory made inside it, so broker's files are private from their first byte without
//! further work. A directory broker did not create is never changed. Administrators can still
//! take ownership of anything, as root can read a `0700` directory.

use std::ffi::OsStr;
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::Path;

use windows_sys::Win32::Foundation::LocalFree;
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenUser, PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY,
    TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::CreateDirectoryW;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// Creates `dir` and any missing parents, each private to the user.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut next = Some(dir);
    while let Some(d) = next.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d);
        next = d.parent();
    }
    if missing.is_empty() {
        return Ok(());
    }
    let descriptor = Descriptor::owner_only()?;
    for d in missing.into_iter().rev() {
        match descriptor.create_dir(d) {
            // Another process made it first, with the same ACL.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            other => other?,
        }
    }
    Ok(())
}

/// A self-relative security descriptor allocated by the system, freed on drop.
struct Descriptor(PSECURITY_DESCRIPTOR);

impl Descriptor {
    /// Protected (`P`), full access (`FA`) for the user and SYSTEM (`SY`), inherited by files
    /// (`OI`) and directories (`CI`).
    fn owner_only() -> io::Result<Descriptor> {
        let sddl = format!("D:P(A;OICI;FA;;;{})(A;OICI;FA;;;SY)", current_user_sid()?);
        let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: a NUL-terminated string in, a LocalAlloc'd descriptor out, owned by Self.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                wide(OsStr::new(&sddl)).as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Descriptor(descriptor))
    }

    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        let attributes = SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: self.0,
            bInheritHandle: 0,
        };
        // SAFETY: a NUL-terminated path and attributes that live through the call.
        if unsafe { CreateDirectoryW(wide(dir.as_os_str()).as_ptr(), &attributes) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Descriptor {
    fn drop(&mut self) {
        // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW, freed once.
        unsafe {
            LocalFree(self.0);
        }
    }
}

/// The SID of the user this process runs as, in `S-1-5-21-…` form.
fn current_user_sid() -> io::Result<String> {
    let mut token = std::ptr::null_mut();
    // SAFETY: the pseudo-handle of this process needs no closing; the token handle is owned
    // below.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a handle OpenProcessToken just gave us, closed once by OwnedHandle.
    let token = unsafe { OwnedHandle::from_raw_handle(token) };
    let mut size = 0u32;
    // SAFETY: asks only for the size (this first call fails with ERROR_INSUFFICIENT_BUFFER).
    unsafe {
        GetTokenInformation(
            token.as_raw_handle(),
            TokenUser,
            std::ptr::null_mut(),
            0,
            &mut size,
        );
    }
    // u64s, so the TOKEN_USER at the start is suitably aligned.
    let mut buffer = vec![0u64; (size as usize).div_ceil(8).max(1)];
    // SAFETY: the buffer holds `size` bytes.
    let ok = unsafe {
        GetTokenInformation(
            token.as_raw_handle(),
            TokenUser,
            buffer.as_mut_ptr().cast(),
            size,
            &mut size,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: GetTokenInformation(TokenUser) wrote a TOKEN_USER (and the SID it points to,
    // which lives in the same buffer) at the start of the buffer.
    let sid = unsafe { (*buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    sid_text(sid)
}

/// A NUL-terminated UTF-16 string for the Windows API.
fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().chain(std::iter::once(0)).collect()
}

/// The machine's `ProgramData` folder (`FOLDERID_ProgramData`), from the shell, never from the
/// `ProgramData` variable, which any user can set.
pub fn program_data() -> io::Result<std::path::PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    use windows_sys::Win32::System::Com::CoTaskMemFree;
    use windows_sys::Win32::UI::Shell::{FOLDERID_ProgramData, SHGetKnownFolderPath};
    let mut path = std::ptr::null_mut();
    // SAFETY: a known folder id in; a CoTaskMemAlloc'd NUL-terminated string out (also on
    // failure, when it may be null), freed below.
    let status =
        unsafe { SHGetKnownFolderPath(&FOLDERID_ProgramData, 0, std::ptr::null_mut(), &mut path) };
    // SAFETY: `path` is null or NUL-terminated; read up to the NUL, then freed once.
    let text = unsafe {
        let text = (!path.is_null()).then(|| {
            let len = (0..).take_while(|&i| *path.add(i) != 0).count();
            std::ffi::OsString::from_wide(std::slice::from_raw_parts(path, len))
        });
        CoTaskMemFree(path.cast_const().cast());
        text
    };
    match text {
        Some(text) if status >= 0 => Ok(text.into()),
        _ => Err(io::Error::from_raw_os_error(status)),
    }
}

/// Who, besides Administrators, SYSTEM and TrustedInstaller, could change a system file.
#[derive(Debug, thiserror::Error)]
pub enum NotAdminOnly {
    #[error("owned by {0}, not Administrators or SYSTEM")]
    Owner(String),
    #[error("writable by {0}")]
    Writable(String),
}

/// Administrators, SYSTEM and TrustedInstaller.
const TRUSTED_SIDS: [&str; 3] = [
    "S-1-5-32-544",
    "S-1-5-18",
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
];

/// Checks that only Administrators, SYSTEM and TrustedInstaller can change the open `file`, or,
/// when it is a directory (`dir`), replace what is in it: they own it, and no one else is
/// allowed a right to write it, its attributes or its ACL, to delete it or (a directory) to
/// delete what is in it. Creating new files in a directory is allowed: every user may do that
/// in ProgramData, and it replaces nothing.
pub fn admin_only(file: &std::fs::File, dir: bool) -> io::Result<Result<(), NotAdminOnly>> {
    use windows_sys::Win32::Foundation::{GENERIC_ALL, GENERIC_WRITE};
    use windows_sys::Win32::Security::Authorization::{GetSecurityInfo, SE_FILE_OBJECT};
    use windows_sys::Win32::Security::{
        AclSizeInformation, GetAce, GetAclInformation, ACCESS_ALLOWED_ACE, ACL,
        ACL_SIZE_INFORMATION, DACL_SECURITY_INFORMATION, INHERIT_ONLY_ACE,
        OWNER_SECURITY_INFORMATION, PSID,
    };
    use windows_sys::Win32::Storage::FileSystem::{
        DELETE, FILE_APPEND_DATA, FILE_DELETE_CHILD, FILE_WRITE_ATTRIBUTES, FILE_WRITE_DATA,
        FILE_WRITE_EA, WRITE_DAC, WRITE_OWNER,
    };
    const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;
    let refused = if dir {
        FILE_DELETE_CHILD | DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_ALL
    } else {
        FILE_WRITE_DATA
            | FILE_APPEND_DATA
            | FILE_WRITE_EA
            | FILE_WRITE_ATTRIBUTES
            | DELETE
            | WRITE_DAC
            | WRITE_OWNER
            | GENERIC_WRITE
            | GENERIC_ALL
    };
    let mut owner: PSID = std::ptr::null_mut();
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    let info = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    // SAFETY: the handle of an open file in; pointers into one LocalAlloc'd descriptor out,
    // which `Descriptor` frees once.
    let status = unsafe {
        GetSecurityInfo(
            file.as_raw_handle(),
            SE_FILE_OBJECT,
            info,
            &mut owner,
            std::ptr::null_mut(),
            &mut dacl,
            std::ptr::null_mut(),
            &mut descriptor,
        )
    };
    if status != 0 {
        return Err(io::Error::from_raw_os_error(status as i32));
    }
    let _descriptor = Descriptor(descriptor);
    let owner = sid_text(owner)?;
    if !TRUSTED_SIDS.contains(&owner.as_str()) {
        return Ok(Err(NotAdminOnly::Owner(owner)));
    }
    // A null DACL allows everyone everything.
    if dacl.is_null() {
        return Ok(Err(NotAdminOnly::Writable(
            "everyone (it has no ACL)".into(),
        )));
    }
    let mut size = ACL_SIZE_INFORMATION::default();
    // SAFETY: a valid ACL in, the size structure of the size given out.
    let ok = unsafe {
        GetAclInformation(
            dacl,
            (&mut size as *mut ACL_SIZE_INFORMATION).cast(),
            std::mem::size_of::<ACL_SIZE_INFORMATION>() as u32,
            AclSizeInformation,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    for index in 0..size.AceCount {
        let mut ace = std::ptr::null_mut();
        // SAFETY: an index below the ACL's count; out, a pointer into the ACL.
        if unsafe { GetAce(dacl, index, &mut ace) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: every ACE starts with an ACE_HEADER; an access-allowed one is an
        // ACCESS_ALLOWED_ACE whose SID starts at SidStart, inside the ACL.
        let (header, allowed) = unsafe {
            let allowed = ace.cast::<ACCESS_ALLOWED_ACE>();
            ((*allowed).Header, allowed)
        };
        if header.AceType != ACCESS_ALLOWED_ACE_TYPE
            || u32::from(header.AceFlags) & INHERIT_ONLY_ACE != 0
        {
            continue;
        }
        // SAFETY: as above.
        let (mask, sid) = unsafe {
            (
                (*allowed).Mask,
                std::ptr::addr_of_mut!((*allowed).SidStart).cast(),
            )
        };
        if mask & refused == 0 {
            continue;
        }
        let sid = sid_text(sid)?;
        if !TRUSTED_SIDS.contains(&sid.as_str()) {
            return Ok(Err(NotAdminOnly::Writable(sid)));
        }
    }
    Ok(Ok(()))
}

/// A SID in `S-1-5-…` form.
fn sid_text(sid: windows_sys::Win32::Security::PSID) -> io::Result<String> {
    let mut text = std::ptr::null_mut();
    // SAFETY: a valid SID in; a LocalAlloc'd NUL-terminated string out, freed below.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `text` is NUL-terminated; it is read up to the NUL, then freed once.
    let sid = unsafe {
        let len = (0..).take_while(|&i| *text.add(i) != 0).count();
        let sid = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
        LocalFree(text.cast());
        sid
    };
    Ok(sid)
}
