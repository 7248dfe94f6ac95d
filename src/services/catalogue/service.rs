//! [`Service`]: a cheap, cloneable handle on a checked [`ServiceDescriptor`].

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::Serialize;

use super::descriptor::{
    DescriptorError, Family, LegalContextRule, OperationDescriptor, Origin, ServiceDescriptor,
    ServiceIds, SsdnIds, V3Ids,
};
use crate::environment::Environment;

/// A catalogued service: a reference-counted, checked [`ServiceDescriptor`]. Cloning is
/// one atomic increment.
///
/// Two handles are equal when they name the same service (a [`super::Catalogue`] never
/// holds two services of one name); handles order and hash by name. `Display` and
/// `Serialize` give the name.
///
/// ```
/// use bcss::services::{Family, retrieve_ti_groups};
/// let ti = retrieve_ti_groups::service();
/// assert_eq!(ti.name(), "RetrieveTIGroups");
/// assert_eq!(ti.family(), Family::V3);
/// assert_eq!(ti.operation_names(), ["retrieveTI"]);
/// assert!(!ti.is_write("retrieveTI"));
/// ```
#[derive(Clone)]
pub struct Service(Arc<ServiceDescriptor>);

impl Service {
    /// A handle on `descriptor`, once [`ServiceDescriptor::check`] accepts it.
    pub fn new(descriptor: ServiceDescriptor) -> Result<Service, DescriptorError> {
        descriptor.check()?;
        Ok(Service(Arc::new(descriptor)))
    }

    /// A handle on a built-in descriptor, which the crate's own tests check
    /// (`catalogue::tests::builtins_are_valid`).
    pub(crate) fn builtin(descriptor: ServiceDescriptor) -> Service {
        Service(Arc::new(descriptor))
    }

    /// The whole descriptor.
    pub fn descriptor(&self) -> &ServiceDescriptor {
        &self.0
    }

    /// The name used in manifests, configuration, fixtures and the journal.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.0.family()
    }

    /// The family's identifiers.
    pub fn ids(&self) -> &ServiceIds {
        &self.0.ids
    }

    /// The SSDN identifiers, for an SSDN service.
    pub fn ssdn(&self) -> Option<&SsdnIds> {
        match &self.0.ids {
            ServiceIds::Ssdn(ids) => Some(ids),
            ServiceIds::V3(_) => None,
        }
    }

    /// The common-v3 identifiers, for a common-v3 service.
    pub fn v3(&self) -> Option<&V3Ids> {
        match &self.0.ids {
            ServiceIds::V3(ids) => Some(ids),
            ServiceIds::Ssdn(_) => None,
        }
    }

    /// The SSDN `ServiceId`, for SSDN services.
    pub fn ssdn_service_id(&self) -> Option<&str> {
        self.ssdn().map(|ids| ids.service_id.as_str())
    }

    /// The message version: the SSDN `Version` (8 characters, a date), or the common-v3
    /// interface version (`v1`, `v2`).
    pub fn version(&self) -> &str {
        self.0.ids.version()
    }

    /// Whether requests start with `informationCustomer`.
    pub fn carries_information_customer(&self) -> bool {
        self.0.information_customer
    }

    /// Whether and how requests carry the granted purpose as their `legalContext`.
    pub fn legal_context(&self) -> &LegalContextRule {
        &self.0.legal_context
    }

    /// The operations, in the descriptor's order. A manifest entry without `operations`
    /// covers all of them.
    pub fn operations(&self) -> &[OperationDescriptor] {
        &self.0.operations
    }

    /// The operations' names, in order.
    pub fn operation_names(&self) -> Vec<&str> {
        self.0.operations.iter().map(|o| o.name.as_str()).collect()
    }

    /// The operation named `name`.
    pub fn operation(&self, name: &str) -> Option<&OperationDescriptor> {
        self.0.operation(name)
    }

    /// Whether `name` is an operation of the service.
    pub fn has_operation(&self, name: &str) -> bool {
        self.operation(name).is_some()
    }

    /// Whether the operation `name` is a write (false for an unknown operation).
    pub fn is_write(&self, name: &str) -> bool {
        self.operation(name).is_some_and(|o| o.write)
    }

    /// The soapAction of the operation `name`.
    pub fn soap_action(&self, name: &str) -> Option<&str> {
        self.operation(name).map(|o| o.soap_action.as_str())
    }

    /// The default endpoint in `environment`, if the descriptor has one.
    pub fn default_endpoint(&self, environment: Environment) -> Option<&str> {
        self.0.endpoints.get(&environment).map(String::as_str)
    }

    /// Where the descriptor comes from.
    pub fn origin(&self) -> &Origin {
        &self.0.origin
    }

    /// Whether it is one of the typed services this crate ships.
    pub fn is_builtin(&self) -> bool {
        self.0.origin == Origin::BuiltIn
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Service").field(&self.0.name).finish()
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq for Service {
    fn eq(&self, other: &Service) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.name == other.0.name
    }
}

impl Eq for Service {}

impl PartialOrd for Service {
    fn partial_cmp(&self, other: &Service) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Service {
    fn cmp(&self, other: &Service) -> Ordering {
        self.0.name.cmp(&other.0.name)
    }
}

impl Hash for Service {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl Serialize for Service {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl PartialEq<&Service> for Service {
    fn eq(&self, other: &&Service) -> bool {
        self == *other
    }
}

impl PartialEq<str> for Service {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

impl PartialEq<&str> for Service {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}
