//! The machinery behind the battery registry in `catalog/mod.rs`: from one
//! entry per battery it declares the battery's module and writes
//! `BatteryKind`, `BatteryKind::ALL`, `info`, `BatteryConfig` and every match
//! over them, so that adding a battery is its own file plus one entry.

/// Writes the catalog's types from the registry's entries, each
/// `/// doc` + `Variant => module::ConfigType,`, in catalog order.
macro_rules! batteries {
    ($( $(#[$doc:meta])* $variant:ident => $module:ident :: $config:ident, )+) => {
        $( pub mod $module; )+

        /// Every battery bi knows. The snake_case name is the stable
        /// identifier stored in the database and used in URLs and the CLI.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum BatteryKind {
            $( $(#[$doc])* $variant, )+
        }

        impl BatteryKind {
            /// Every kind, in catalog order (grouped, core first).
            pub const ALL: [BatteryKind; [$(stringify!($variant)),+].len()] =
                [$(Self::$variant),+];
        }

        /// The catalog entry of `kind`.
        pub fn info(kind: BatteryKind) -> &'static BatteryInfo {
            match kind {
                $( BatteryKind::$variant => &$module::INFO, )+
            }
        }

        /// The typed configuration of one installed battery. Stored as
        /// `{"kind": "redis", "config": {…}}`; missing fields take their
        /// defaults, unknown fields are refused.
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind", content = "config", rename_all = "snake_case")]
        // NB: a state holds one config per installed battery (a few dozen),
        // so the largest (Knative's seven images) costs nothing worth a Box.
        #[allow(clippy::large_enum_variant)]
        pub enum BatteryConfig {
            $( $(#[$doc])* $variant($module::$config), )+
        }

        impl BatteryConfig {
            /// The default configuration of `kind`.
            pub fn default_for(kind: BatteryKind) -> Self {
                match kind {
                    $( BatteryKind::$variant => Self::$variant($module::$config::default()), )+
                }
            }

            /// Which battery this configures.
            pub fn kind(&self) -> BatteryKind {
                match self {
                    $( Self::$variant(_) => BatteryKind::$variant, )+
                }
            }

            /// Every resource this battery needs, given the rest of the
            /// desired state.
            pub fn generate(
                &self,
                ctx: &$crate::generate::Context<'_>,
            ) -> Result<Vec<$crate::generate::Resource>, $crate::generate::GenerateError> {
                match self {
                    $( Self::$variant(config) => $module::generate(config, ctx), )+
                }
            }

            /// Every problem with this configuration, with paths relative
            /// to it.
            pub fn validate(&self) -> Result<(), $crate::validation::Problems> {
                match self {
                    $( Self::$variant(config) => config.validate(), )+
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::catalog::{BatteryConfig, BatteryKind, loki};

    #[test]
    fn every_default_config_is_valid_except_where_a_cloud_must_say() {
        for kind in BatteryKind::ALL {
            let config = BatteryConfig::default_for(kind);
            assert_eq!(config.kind(), kind);
            let needs_cloud_values = kind == BatteryKind::Karpenter;
            assert_eq!(
                config.validate().is_ok(),
                !needs_cloud_values,
                "{kind}: {:?}",
                config.validate()
            );
        }
    }

    #[test]
    fn stored_form_names_the_kind_and_round_trips() {
        for kind in BatteryKind::ALL {
            let config = BatteryConfig::default_for(kind);
            let json = serde_json::to_value(&config).unwrap();
            assert_eq!(json["kind"], kind.id());
            assert_eq!(
                serde_json::from_value::<BatteryConfig>(json).unwrap(),
                config
            );
        }
    }

    #[test]
    fn missing_fields_take_defaults_and_unknown_fields_are_refused() {
        let partial: BatteryConfig =
            serde_json::from_str(r#"{"kind":"loki","config":{"replicas":3}}"#).unwrap();
        let BatteryConfig::Loki(loki) = partial else {
            panic!("not loki")
        };
        assert_eq!(loki.replicas, 3);
        assert_eq!(loki.storage, loki::LokiConfig::default().storage);

        let err =
            serde_json::from_str::<BatteryConfig>(r#"{"kind":"loki","config":{"replica":3}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("unknown field `replica`"), "{err}");
    }

    #[test]
    fn a_size_as_a_bare_json_number_is_refused_when_decoding() {
        // A string is a Kubernetes quantity ("500" is 500 bytes, as a cluster
        // reports it); a bare number is what a careless client sends.
        let err =
            serde_json::from_str::<BatteryConfig>(r#"{"kind":"loki","config":{"storage":500}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("no unit"), "{err}");
    }
}
