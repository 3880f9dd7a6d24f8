//! TLP 2.0 labels: the rights ceiling of each level, the standard colours and
//! the harmonization of a member's own marking with the community's TLP.
//!
//! The ceiling table (the label sets the ceiling and the originator's rights
//! may only narrow it):
//!
//! | TLP 2.0 | ceiling |
//! |---|---|
//! | RED | view only; named recipients only; watermark always |
//! | AMBER+STRICT | view, print with watermark; forward within the reader's organization |
//! | AMBER | as AMBER+STRICT, and forward to the organization's declared clients |
//! | GREEN | view, print, copy; forward within the community |
//! | CLEAR | everything |
//!
//! Harmonization: a package may carry the originator's own marking
//! (`ACME:Confidential`) next to its TLP level. The originator's entry in the
//! trust list maps its markings to TLP. A marking without a mapping makes the
//! label unknown, and the package is refused. When the mapped level and the
//! package's level differ, the stricter of the two applies and the reader is
//! warned and shown both. Taking the stricter level means that a marking can
//! never widen what the TLP level allows, and a TLP level can never widen what
//! the marking allows.

use serde::{Deserialize, Serialize};

use crate::assertions::{Label, Marking, Tlp};

/// How far a reader may forward a package, from the narrowest scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ForwardScope {
    /// No forwarding.
    None,
    /// Within the reader's organization.
    Organization,
    /// Within the reader's organization and to its declared clients.
    OrganizationAndClients,
    /// Within the community.
    Community,
    /// Anyone.
    Anyone,
}

/// The rights a reader has on an opened package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveRights {
    /// Viewing.
    pub view: bool,
    /// Printing (with the watermark when `watermark` is set).
    pub print: bool,
    /// Copying text out of the viewer.
    pub copy: bool,
    /// Forwarding scope.
    pub forward: ForwardScope,
    /// Saving the plaintext outside the viewer.
    pub export: bool,
    /// Whether the viewer overlays the watermark on screen and in print.
    pub watermark: bool,
}

impl EffectiveRights {
    /// Returns the rights of a package without a label: view only.
    pub fn view_only() -> EffectiveRights {
        EffectiveRights {
            view: true,
            print: false,
            copy: false,
            forward: ForwardScope::None,
            export: false,
            watermark: false,
        }
    }

    /// Narrows these rights by the originator's rights assertion and never
    /// widens them: each permission must be granted by both, and the
    /// watermark applies when either asks for it. A `forward: false` in the
    /// assertion removes forwarding; `true` keeps this ceiling's scope.
    pub fn narrow(self, rights: &crate::assertions::Rights) -> EffectiveRights {
        EffectiveRights {
            view: self.view && rights.view,
            print: self.print && rights.print,
            copy: self.copy && rights.copy,
            forward: if rights.forward { self.forward } else { ForwardScope::None },
            export: self.export && rights.export,
            watermark: self.watermark || rights.watermark,
        }
    }
}

/// Returns the maximum rights a TLP level allows (the ceiling table in the
/// module documentation).
pub fn ceiling(tlp: Tlp) -> EffectiveRights {
    match tlp {
        Tlp::Red => EffectiveRights {
            view: true,
            print: false,
            copy: false,
            forward: ForwardScope::None,
            export: false,
            watermark: true,
        },
        Tlp::AmberStrict => EffectiveRights {
            view: true,
            print: true,
            copy: false,
            forward: ForwardScope::Organization,
            export: false,
            watermark: true,
        },
        Tlp::Amber => EffectiveRights {
            view: true,
            print: true,
            copy: false,
            forward: ForwardScope::OrganizationAndClients,
            export: false,
            watermark: true,
        },
        Tlp::Green => EffectiveRights {
            view: true,
            print: true,
            copy: true,
            forward: ForwardScope::Community,
            export: false,
            watermark: false,
        },
        Tlp::Clear => EffectiveRights {
            view: true,
            print: true,
            copy: true,
            forward: ForwardScope::Anyone,
            export: true,
            watermark: false,
        },
    }
}

/// Colours of a TLP 2.0 label as the FIRST TLP 2.0 standard gives them:
/// coloured text on a black background, as `#RRGGBB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlpColours {
    /// Text colour.
    pub foreground: &'static str,
    /// Background colour.
    pub background: &'static str,
}

/// Returns the TLP 2.0 colours of a level (RED `#FF2B2B`, AMBER and
/// AMBER+STRICT `#FFC000`, GREEN `#33FF00`, CLEAR `#FFFFFF`, all on black).
pub fn colours(tlp: Tlp) -> TlpColours {
    let foreground = match tlp {
        Tlp::Red => "#FF2B2B",
        Tlp::Amber | Tlp::AmberStrict => "#FFC000",
        Tlp::Green => "#33FF00",
        Tlp::Clear => "#FFFFFF",
    };
    TlpColours { foreground, background: "#000000" }
}

/// One entry of a member's label mapping: an internal marking and the TLP
/// level it corresponds to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelMapping {
    /// Marking system, for example `ACME`.
    pub system: String,
    /// Marking value, for example `Confidential`.
    pub value: String,
    /// TLP 2.0 level the marking maps to.
    pub tlp: Tlp,
}

/// Outcome of comparing a package's marking with its TLP level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MarkingStatus {
    /// The package carries no marking.
    NoMarking,
    /// The marking maps to the package's TLP level.
    Agrees,
    /// The marking maps to another level; the stricter applies.
    Disagrees,
    /// The originator's mapping does not list the marking.
    Unknown,
}

/// A package's label as the reader sees it: the TLP level, the marking and
/// what the marking maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarmonizedLabel {
    /// Level that sets the ceiling: the stricter of the package's level and
    /// the marking's mapped level.
    pub effective: Tlp,
    /// Level the package carries.
    pub package_tlp: Tlp,
    /// Originator's marking, if any.
    pub marking: Option<Marking>,
    /// Level the marking maps to in the originator's mapping, if known.
    pub mapped_tlp: Option<Tlp>,
    /// How the marking and the level compare.
    pub status: MarkingStatus,
}

/// Harmonizes a package label with the originator's label mapping.
///
/// Markings match on the exact system and value (case-sensitive, because
/// members choose their own spellings).
pub fn harmonize(label: &Label, mappings: &[LabelMapping]) -> HarmonizedLabel {
    let Some(marking) = &label.marking else {
        return HarmonizedLabel {
            effective: label.tlp,
            package_tlp: label.tlp,
            marking: None,
            mapped_tlp: None,
            status: MarkingStatus::NoMarking,
        };
    };
    let mapped = mappings
        .iter()
        .find(|mapping| mapping.system == marking.system && mapping.value == marking.value)
        .map(|mapping| mapping.tlp);
    let (effective, status) = match mapped {
        None => (label.tlp, MarkingStatus::Unknown),
        Some(tlp) if tlp == label.tlp => (tlp, MarkingStatus::Agrees),
        Some(tlp) => (tlp.max(label.tlp), MarkingStatus::Disagrees),
    };
    HarmonizedLabel {
        effective,
        package_tlp: label.tlp,
        marking: Some(marking.clone()),
        mapped_tlp: mapped,
        status,
    }
}

/// Parses a marking written as `SYSTEM:VALUE` (for example
/// `ACME:Confidential`); returns `None` when either side is empty.
pub fn parse_marking(text: &str) -> Option<Marking> {
    let (system, value) = text.split_once(':')?;
    let (system, value) = (system.trim(), value.trim());
    if system.is_empty() || value.is_empty() {
        return None;
    }
    Some(Marking { system: system.to_owned(), value: value.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assertions::Rights;

    #[test]
    fn ceilings_narrow_with_level() {
        let order = Tlp::ALL;
        for pair in order.windows(2) {
            let (wider, narrower) = (ceiling(pair[0]), ceiling(pair[1]));
            assert!(narrower.forward <= wider.forward, "{:?} forward", pair[1]);
            assert!(!narrower.print || wider.print);
            assert!(!narrower.copy || wider.copy);
            assert!(!narrower.export || wider.export);
        }
        assert_eq!(ceiling(Tlp::Red).forward, ForwardScope::None);
        assert!(ceiling(Tlp::Red).watermark);
        assert!(ceiling(Tlp::AmberStrict).print && ceiling(Tlp::AmberStrict).watermark);
        assert_eq!(ceiling(Tlp::Amber).forward, ForwardScope::OrganizationAndClients);
        assert!(ceiling(Tlp::Green).copy && !ceiling(Tlp::Green).export);
        assert!(ceiling(Tlp::Clear).export);
    }

    #[test]
    fn narrow_never_widens() {
        let red = ceiling(Tlp::Red);
        assert_eq!(red.narrow(&Rights::all()), red);
        let no_forward = Rights { forward: false, print: false, ..Rights::all() };
        let green = ceiling(Tlp::Green).narrow(&no_forward);
        assert_eq!(green.forward, ForwardScope::None);
        assert!(!green.print);
        let watermark = Rights { watermark: true, ..Rights::all() };
        assert!(ceiling(Tlp::Clear).narrow(&watermark).watermark);
    }

    fn mappings() -> Vec<LabelMapping> {
        vec![LabelMapping { system: "ACME".into(), value: "Confidential".into(), tlp: Tlp::Amber }]
    }

    #[test]
    fn harmonize_cases() {
        let marking = parse_marking("ACME:Confidential");
        let agree = harmonize(&Label { tlp: Tlp::Amber, marking: marking.clone() }, &mappings());
        assert_eq!(agree.status, MarkingStatus::Agrees);

        let wider = harmonize(&Label { tlp: Tlp::Green, marking: marking.clone() }, &mappings());
        assert_eq!(wider.status, MarkingStatus::Disagrees);
        assert_eq!(wider.effective, Tlp::Amber);

        let stricter = harmonize(&Label { tlp: Tlp::Red, marking }, &mappings());
        assert_eq!(stricter.effective, Tlp::Red);
        assert_eq!(stricter.mapped_tlp, Some(Tlp::Amber));

        let unknown = harmonize(&Label { tlp: Tlp::Red, marking: parse_marking("ACME:Secret") }, &mappings());
        assert_eq!(unknown.status, MarkingStatus::Unknown);
    }

    #[test]
    fn marking_parse() {
        assert_eq!(parse_marking("ACME:Confidential").map(|m| m.value), Some("Confidential".to_owned()));
        assert_eq!(parse_marking("ACME"), None);
        assert_eq!(parse_marking(":x"), None);
    }
}
