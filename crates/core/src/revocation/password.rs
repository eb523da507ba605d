//! Temporary passwords for `requirePasswordChange`.

/// A temporary password from the system CSPRNG: 20 characters, every character class.
pub(super) fn temporary_password() -> String {
    use ring::rand::SecureRandom;
    const CLASSES: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-=?@_",
    ];
    let all: Vec<u8> = CLASSES.concat();
    let rng = ring::rand::SystemRandom::new();
    let mut bytes = [0u8; 20];
    rng.fill(&mut bytes)
        .expect("the system random generator works");
    let mut password: Vec<u8> = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let class = if i < CLASSES.len() { CLASSES[i] } else { &all };
            class[*b as usize % class.len()]
        })
        .collect();
    // Class characters were placed first; rotate by a random amount so they are not predictable.
    let rotation = bytes[0] as usize % password.len();
    password.rotate_left(rotation);
    String::from_utf8(password).expect("ascii")
}

#[cfg(test)]
mod tests {
    use super::temporary_password;

    #[test]
    fn temporary_passwords_are_long_mixed_and_different() {
        let a = temporary_password();
        let b = temporary_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(
            a.chars().any(|c| c.is_ascii_uppercase())
                && a.chars().any(|c| c.is_ascii_lowercase())
                && a.chars().any(|c| c.is_ascii_digit())
                && a.chars().any(|c| !c.is_ascii_alphanumeric())
        );
    }
}
