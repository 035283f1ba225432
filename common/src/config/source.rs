//! Where a setting's value comes from: its variable, or the file its
//! `NAME_FILE` variable names.

use std::fmt;
use std::io;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use super::{ConfigError, Secret};

/// The value of `name` from the environment, or from the file that
/// `NAME_FILE` names; `None` when neither is set (or the value is blank).
fn lookup(name: &'static str) -> Result<Option<String>, ConfigError> {
    let var = |key: &str| std::env::var(key).ok();
    resolve(name, var(name), var(&format!("{name}_FILE")), |path| {
        std::fs::read_to_string(path)
    })
}

/// Chooses between a setting's value and its file, reading the file with
/// `read`. A file's trailing newline is not part of the value (what
/// `kubectl create secret --from-file` and editors leave there).
fn resolve(
    name: &'static str,
    value: Option<String>,
    file: Option<String>,
    read: impl FnOnce(&Path) -> io::Result<String>,
) -> Result<Option<String>, ConfigError> {
    let blank = |v: &String| v.trim().is_empty();
    let value = value.filter(|v| !blank(v));
    let file = file.filter(|f| !blank(f));
    let value = match (value, file) {
        (Some(_), Some(_)) => return Err(ConfigError::Ambiguous(name)),
        (Some(value), None) => value,
        (None, Some(path)) => {
            let mut text = read(Path::new(&path)).map_err(|err| ConfigError::Unreadable {
                name,
                path: path.clone(),
                reason: err.to_string(),
            })?;
            let kept = text.trim_end_matches(['\n', '\r']).len();
            text.truncate(kept);
            text
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(value).filter(|v| !blank(v)))
}

/// A setting that must be present and not empty.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    lookup(name)?.ok_or(ConfigError::Missing(name))
}

/// A setting that must be present, kept out of logs.
pub fn secret(name: &'static str) -> Result<Secret, ConfigError> {
    required(name).map(Secret::new)
}

/// A secret that may be absent, kept out of logs.
pub fn optional_secret(name: &'static str) -> Result<Option<Secret>, ConfigError> {
    Ok(lookup(name)?.map(Secret::new))
}

/// A setting with a default, parsed into `T`.
pub fn optional<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match lookup(name)? {
        Some(value) => value
            .trim()
            .parse()
            .map_err(|err: T::Err| ConfigError::Invalid {
                name,
                reason: err.to_string(),
            }),
        None => Ok(default),
    }
}

/// A duration given in whole seconds.
pub fn seconds(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    optional(name, default).map(Duration::from_secs)
}

/// A duration given in milliseconds.
pub fn millis(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    optional(name, default).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_setting_is_named() {
        let err = required("COMMON_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required setting COMMON_TEST_SURELY_UNSET"
        );
    }

    #[test]
    fn an_absent_optional_setting_takes_its_default() {
        assert_eq!(optional("COMMON_TEST_ALSO_UNSET", 42u16).unwrap(), 42);
    }

    fn no_file(_: &Path) -> io::Result<String> {
        panic!("no file should be read")
    }

    #[test]
    fn a_value_in_the_environment_is_taken_as_it_is() {
        // Given JWT_KEY set and no JWT_KEY_FILE
        // When it is resolved
        let value = resolve("JWT_KEY", Some("key".into()), None, no_file);
        // Then the value is the variable's, and no file is read
        assert_eq!(value.unwrap().as_deref(), Some("key"));
    }

    #[test]
    fn a_value_in_a_file_is_read_without_its_trailing_newline() {
        // Given only JWT_KEY_FILE, naming a file ending in a newline
        let read = |path: &Path| {
            assert_eq!(path, Path::new("/run/secrets/jwt/key"));
            Ok("s3cret\n".to_string())
        };
        // When it is resolved
        let value = resolve("JWT_KEY", None, Some("/run/secrets/jwt/key".into()), read);
        // Then the value is the file's, without the newline
        assert_eq!(value.unwrap().as_deref(), Some("s3cret"));
    }

    #[test]
    fn a_value_and_a_file_both_set_are_refused_naming_both() {
        // Given both MONGO_URI and MONGO_URI_FILE
        // When it is resolved
        let err = resolve(
            "MONGO_URI",
            Some("mongodb://a".into()),
            Some("/f".into()),
            no_file,
        )
        .unwrap_err();
        // Then the error names both settings and nothing of their values
        let message = err.to_string();
        assert!(
            message.contains("MONGO_URI and MONGO_URI_FILE"),
            "{message}"
        );
        assert!(!message.contains("mongodb://a"), "{message}");
    }

    #[test]
    fn an_unreadable_file_is_named_with_its_setting() {
        // Given REDIS_URL_FILE naming a file that is not there
        let path =
            std::env::temp_dir().join(format!("common-config-{}-absent", std::process::id()));
        let path = path.to_string_lossy().into_owned();
        // When it is resolved with the real file system
        let err = resolve("REDIS_URL", None, Some(path.clone()), |p| {
            std::fs::read_to_string(p)
        })
        .unwrap_err();
        // Then the error names the setting and the path
        let message = err.to_string();
        assert!(message.contains("REDIS_URL_FILE"), "{message}");
        assert!(message.contains(&path), "{message}");
    }

    #[test]
    fn a_file_on_disk_is_read() {
        // Given STRIPE_SECRET_KEY_FILE naming a real file
        let path = std::env::temp_dir().join(format!("common-config-{}-key", std::process::id()));
        std::fs::write(&path, "sk_live_x\r\n").unwrap();
        // When it is resolved with the real file system
        let value = resolve(
            "STRIPE_SECRET_KEY",
            None,
            Some(path.to_string_lossy().into_owned()),
            |p| std::fs::read_to_string(p),
        );
        std::fs::remove_file(&path).unwrap();
        // Then the value is the file's
        assert_eq!(value.unwrap().as_deref(), Some("sk_live_x"));
    }

    #[test]
    fn an_empty_file_counts_as_unset() {
        // Given NATS_PASSWORD_FILE naming an empty file
        // When it is resolved
        let value = resolve("NATS_PASSWORD", None, Some("/f".into()), |_| {
            Ok("\n".to_string())
        });
        // Then the setting is absent, as an empty variable is
        assert_eq!(value.unwrap(), None);
    }

    #[test]
    fn neither_set_is_absent() {
        assert_eq!(
            resolve("JWT_KEY", None, Some(" ".into()), no_file).unwrap(),
            None
        );
    }
}
