//! The service catalogue: every service bcss can call, each described once.
//!
//! A [`ServiceDescriptor`] gives a service's manifest name, its family (SSDN or common v3)
//! with the family's identifiers ([`SsdnIds`]: `ServiceId`, `Version`, payload namespace;
//! [`V3Ids`]: interface namespace and version), whether its requests carry
//! `informationCustomer` and a `legalContext` (and, where its schema allows only a closed
//! list of legalContext values, that list: [`LegalContextRule`]), its operations
//! ([`OperationDescriptor`]: request, response and fault elements, soapAction, whether it
//! is a write, which elements name its subjects), its default endpoint in each environment,
//! and where the description comes from ([`Origin`]).
//!
//! A [`Service`] is a cheap handle on a checked descriptor. A [`Catalogue`] holds the six
//! built-in services (each declared in its own file under `services/`, with its WSDL in
//! `wsdl/`) and the services an organisation configures from the contracts BCSS gave it:
//! `[[service]]` entries in `bcss.toml` or in a catalogue file it names
//! ([`parse_services`]), written by hand or printed by `bcss services import` from BCSS's
//! WSDL files ([`import`]).
//!
//! The manifest's validation and the guard's index, the endpoints and their overrides, the
//! mock's routing, the fixtures and the command line all read the catalogue.
//!
//! ```
//! use bcss::services::Catalogue;
//!
//! let builtin = Catalogue::builtin();
//! assert_eq!(builtin.len(), 6);
//! let hci = builtin.get("HealthCareInsurance").unwrap();
//! assert_eq!(hci.legal_context().closed_values().map(|v| v.len()), Some(10));
//! let manage = builtin.get("ManageAccess").unwrap();
//! assert!(manage.is_write("register") && !manage.is_write("list"));
//! ```

use std::fmt;

pub(crate) mod builtin;
mod descriptor;
pub mod import;
mod service;
pub(crate) mod spec;
mod write;

pub use descriptor::{
    DescriptorError, Family, LEGAL_CONTEXT_MAX_CHARS, LegalContextRule, MAX_NAME_CHARS,
    OperationDescriptor, Origin, ServiceDescriptor, ServiceIds, SsdnIds, V3Ids, is_ncname,
    is_service_name,
};
pub use service::Service;
pub use spec::{SpecError, parse_services};
pub use write::to_toml;

/// Every service a client can call: the built-in ones first, in their fixed order, then
/// the configured ones in the order they were added. Names are unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    services: Vec<Service>,
}

/// A service could not be added to a catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// Another service already has this name.
    #[error("{origin}: service {name:?} is already described ({existing}); give it another name")]
    Duplicate {
        /// The name.
        name: String,
        /// Where the service already in the catalogue comes from.
        existing: Origin,
        /// Where the new one comes from.
        origin: Origin,
    },
}

/// A name the catalogue does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown service {name:?}{hint}; the services this client knows: {}", known.join(", "))]
pub struct UnknownService {
    /// The name asked for.
    pub name: String,
    /// " (did you mean 'X'?)", or empty.
    pub hint: String,
    /// Every name the catalogue knows, in order.
    pub known: Vec<String>,
}

impl Catalogue {
    /// The six typed services this crate ships.
    pub fn builtin() -> &'static Catalogue {
        builtin::catalogue()
    }

    /// The built-in catalogue plus `services`, in order. Refused when a name is taken.
    pub fn with_configured(
        services: impl IntoIterator<Item = Service>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut catalogue = Catalogue::builtin().clone();
        for service in services {
            catalogue.add(service)?;
        }
        Ok(catalogue)
    }

    /// Add a service at the end. Refused when its name is taken.
    pub fn add(&mut self, service: Service) -> Result<(), CatalogueError> {
        if let Some(existing) = self.get(service.name()) {
            return Err(CatalogueError::Duplicate {
                name: service.name().to_string(),
                existing: existing.origin().clone(),
                origin: service.origin().clone(),
            });
        }
        self.services.push(service);
        Ok(())
    }

    /// The service named `name` (case-sensitive).
    pub fn get(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name() == name)
    }

    /// The service named `name`, or an error naming the known services (and the nearest
    /// name, when one is close).
    pub fn lookup(&self, name: &str) -> Result<&Service, UnknownService> {
        self.get(name).ok_or_else(|| {
            let known: Vec<String> = self.names().into_iter().map(str::to_string).collect();
            let refs: Vec<&str> = known.iter().map(String::as_str).collect();
            UnknownService {
                name: name.to_string(),
                hint: crate::manifest::suggestion(name, &refs),
                known,
            }
        })
    }

    /// Every service, built-in first, in a stable order.
    pub fn iter(&self) -> std::slice::Iter<'_, Service> {
        self.services.iter()
    }

    /// Every name, in order.
    pub fn names(&self) -> Vec<&str> {
        self.services.iter().map(Service::name).collect()
    }

    /// The configured (not built-in) services, in order.
    pub fn configured(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| !s.is_builtin())
    }

    /// What to add to "unknown service": with the built-in services only, where the
    /// services of one's own come from (the configuration's `[[service]]` entries, which
    /// the command line reads with `--config bcss.toml`); empty otherwise.
    pub fn unknown_service_hint(&self) -> &'static str {
        if self.configured().next().is_none() {
            " (only the built-in services are known: a service of your own is described by a [[service]] entry of the configuration; give it with --config bcss.toml)"
        } else {
            ""
        }
    }

    /// How many services.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether there are none (never, for a catalogue that holds the built-ins).
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

/// The built-in catalogue.
impl Default for Catalogue {
    fn default() -> Catalogue {
        Catalogue::builtin().clone()
    }
}

impl<'a> IntoIterator for &'a Catalogue {
    type Item = &'a Service;
    type IntoIter = std::slice::Iter<'a, Service>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Display for Catalogue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;

    #[test]
    fn builtins_are_valid_and_complete() {
        let names = Catalogue::builtin().names();
        assert_eq!(
            names,
            [
                "IdentifyPerson",
                "ManageAccess",
                "PerformInvestigation",
                "TestConnection",
                "RetrieveTIGroups",
                "HealthCareInsurance"
            ]
        );
        for service in Catalogue::builtin() {
            let d = service.descriptor();
            d.check().unwrap_or_else(|e| panic!("{e}"));
            assert!(service.is_builtin());
            assert_eq!(
                service.ssdn_service_id().is_some(),
                service.family() == Family::Ssdn
            );
            for env in Environment::ALL {
                assert!(service.default_endpoint(env).is_some(), "{service} {env}");
            }
            for op in service.operations() {
                assert!(!op.soap_action.is_empty(), "{service} {}", op.name);
            }
        }
        assert!(Catalogue::builtin().get("identifyperson").is_none());
    }

    #[test]
    fn names_are_unique() {
        let mut c = Catalogue::builtin().clone();
        let again = Catalogue::builtin().get("TestConnection").unwrap().clone();
        let err = c.add(again).unwrap_err();
        assert!(err.to_string().contains("already described"), "{err}");
        let unknown = c.lookup("RetrieveTIGroup").unwrap_err().to_string();
        assert!(
            unknown.contains("did you mean 'RetrieveTIGroups'"),
            "{unknown}"
        );
    }

    #[test]
    fn writes_and_closed_legal_contexts() {
        let c = Catalogue::builtin();
        let manage = c.get("ManageAccess").unwrap();
        assert!(manage.is_write("register"));
        assert!(manage.is_write("unregister"));
        assert!(!manage.is_write("list"));
        let hci = c.get("HealthCareInsurance").unwrap();
        assert_eq!(
            hci.legal_context().closed_values().unwrap(),
            crate::services::health_care_insurance::LEGAL_CONTEXTS
        );
        assert_eq!(
            c.get("RetrieveTIGroups").unwrap().legal_context(),
            &LegalContextRule::free()
        );
        assert_eq!(
            c.get("TestConnection").unwrap().legal_context(),
            &LegalContextRule::None
        );
    }
}
