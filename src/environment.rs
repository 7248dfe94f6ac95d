//! The three BCSS environments. Each authorisation names exactly one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A BCSS environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// BCSS's test environment.
    Test,
    /// BCSS's acceptance environment ("acpt").
    Acceptance,
    /// Production: calls here need a deliberation number or an explicit `not-applicable`.
    Production,
}

impl Environment {
    /// All three, in order.
    pub const ALL: [Environment; 3] = [
        Environment::Test,
        Environment::Acceptance,
        Environment::Production,
    ];

    /// The name used in manifests, configuration and the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Acceptance => "acceptance",
            Environment::Production => "production",
        }
    }

    /// The tag BCSS uses in its host names (`test`, `acpt`, `prod`).
    pub fn host_tag(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Acceptance => "acpt",
            Environment::Production => "prod",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not one of the three environments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment {0:?}: expected test, acceptance or production")]
pub struct UnknownEnvironment(pub String);

impl FromStr for Environment {
    type Err = UnknownEnvironment;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "test" => Ok(Environment::Test),
            "acceptance" | "acpt" => Ok(Environment::Acceptance),
            "production" | "prod" => Ok(Environment::Production),
            other => Err(UnknownEnvironment(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for env in Environment::ALL {
            assert_eq!(env.as_str().parse::<Environment>().unwrap(), env);
            assert_eq!(env.host_tag().parse::<Environment>().unwrap(), env);
        }
        assert!("staging".parse::<Environment>().is_err());
    }
}
