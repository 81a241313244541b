//! The current password as a profile's `plugins.password_proof` says to send it.

use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// The current password as the profile's `plugins.password_proof` says to send it.
pub fn password_proof(proof: Option<&str>, password: &Secret) -> Secret {
    match proof {
        // Rocket.Chat's `currentPassword`: the SHA-256 hex of the password (the
        // client's `SHA256()` before the two-factor "password" method).
        Some("sha256-hex") => Secret::new(
            Sha256::digest(password.expose().as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        ),
        _ => password.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_proof() {
        let p = password_proof(Some("sha256-hex"), &Secret::new("abc"));
        assert_eq!(
            p.expose(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(password_proof(None, &Secret::new("abc")).expose(), "abc");
    }
}
