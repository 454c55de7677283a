//! Petitions and pledges, and the signups both take: validated input and the email
//! normalisation that makes "one signup per person" hold.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::FieldErrors;
use crate::comment::Email;
use crate::input::{Fields, optional, optional_blank, plain_text, required, single_line, text};
use crate::post::Slug;
use crate::time as t;

/// The consent a signer gives, stored with every signup with its version.
pub const CONSENT_VERSION: &str = "2026-11";
pub const CONSENT_TEXT: &str = "I agree that the organiser may keep my name and email to count and deliver this \
campaign, and to write to me about it. I can erase my signup at any time with the link in my confirmation mail.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Petition,
    Pledge,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Petition => "petition",
            Self::Pledge => "pledge",
        }
    }

    pub fn key_prefix(self) -> &'static str {
        match self {
            Self::Petition => "PETITION",
            Self::Pledge => "PLEDGE",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "petition" => Some(Self::Petition),
            "pledge" => Some(Self::Pledge),
            _ => None,
        }
    }
}

/// The address a person is known by for "one signup each": trimmed and lowercased,
/// `+tags` folded (the big providers deliver `a+x@` to `a@`), and for Gmail the dots
/// too, which it ignores.
pub fn normalise_email(email: &Email) -> String {
    let address = email.as_ref();
    let Some((local, domain)) = address.rsplit_once('@') else { return address.to_owned() };
    let local = local.split('+').next().unwrap_or(local);
    let (local, domain) = match domain {
        "gmail.com" | "googlemail.com" => (local.replace('.', ""), "gmail.com"),
        _ => (local.to_owned(), domain),
    };
    format!("{local}@{domain}")
}

/// The key a person's signup to one campaign is stored under: a salted hash of the
/// normalised address and the campaign, so uniqueness lives in the key, a key (which
/// public list cursors carry) cannot be matched against a guessed address without the
/// deployment's secret, and one person's keys in two campaigns cannot be linked.
pub fn signer_key(email: &Email, salt: &str, kind: Kind, slug: &Slug) -> String {
    crate::sha256_hex(format!("{salt}|email:{}|{}:{slug}", normalise_email(email), kind.as_str()).as_bytes())
}

/// The key of a person's address across every campaign, for the per-address mail cap.
pub fn address_key(email: &Email, salt: &str) -> String {
    crate::sha256_hex(format!("{salt}|mailto:{}", normalise_email(email)).as_bytes())
}

/// What a petition asks of whom, or what a pledge promises on which condition, as
/// stored (times as RFC 3339 text) beside what every campaign has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Terms {
    Petition {
        target: String,
        goal: u64,
        closes_at: Option<String>,
    },
    /// "I will give `suggested_amount` if `threshold` others will, by `deadline`."
    Pledge {
        threshold: u64,
        deadline: String,
        currency: String,
        suggested_amount: Option<u64>,
        petition: Option<String>,
    },
}

impl Terms {
    pub fn kind(&self) -> Kind {
        match self {
            Self::Petition { .. } => Kind::Petition,
            Self::Pledge { .. } => Kind::Pledge,
        }
    }
}

/// A new petition (`POST /petitions`) or pledge (`POST /pledges`): what every campaign
/// has, and the terms of its kind.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub slug: Slug,
    pub title: String,
    pub body: String,
    pub post: Option<Slug>,
    pub terms: Terms,
}

impl NewCampaign {
    pub fn from_json(map: Map<String, Value>, kind: Kind) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(map);
        let slug = f.take("slug", required(Slug::parse));
        let title = f.take("title", required(text(200)));
        let body = f.take("body", required(text(20_000)));
        let post = f.take("post", optional(Slug::parse));
        let terms = match kind {
            Kind::Petition => {
                let target = f.take("target", required(text(200)));
                let goal = f.take("goal", whole(1, 100_000_000));
                let closes_at = f.take("closes_at", optional(t::parse));
                match (target, goal, closes_at) {
                    (Some(target), Some(goal), Some(closes_at)) => {
                        Some(Terms::Petition { target, goal, closes_at: closes_at.map(t::format) })
                    }
                    _ => None,
                }
            }
            Kind::Pledge => {
                let threshold = f.take("threshold", whole(1, 100_000_000));
                let deadline = f.take("deadline", required(t::parse));
                let currency = f.take("currency", optional(currency)).map(|c| c.unwrap_or_else(|| "USD".into()));
                let suggested = f.take("suggested_amount", |v| match v {
                    None | Some(Value::Null) => Ok(None),
                    other => whole(1, MAX_AMOUNT)(other).map(Some),
                });
                let petition = f.take("petition", optional(Slug::parse));
                match (threshold, deadline, currency, suggested, petition) {
                    (Some(threshold), Some(deadline), Some(currency), Some(suggested_amount), Some(petition)) => {
                        Some(Terms::Pledge {
                            threshold,
                            deadline: t::format(deadline),
                            currency,
                            suggested_amount,
                            petition: petition.map(|p| p.to_string()),
                        })
                    }
                    _ => None,
                }
            }
        };
        f.finish()?;
        Ok(Self {
            slug: slug.expect("checked"),
            title: title.expect("checked"),
            body: body.expect("checked"),
            post: post.expect("checked"),
            terms: terms.expect("checked"),
        })
    }
}

/// Pledged amounts are whole units of the currency, up to a sum no one pledges by mistake.
pub const MAX_AMOUNT: u64 = 1_000_000;

fn currency(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be a three-letter currency code such as USD".into())
    }
}

fn whole(min: u64, max: u64) -> impl FnOnce(Option<Value>) -> Result<u64, String> {
    move |value| match value {
        None | Some(Value::Null) => Err("is required".into()),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(format!("must be a whole number from {min} to {max}")),
        },
        Some(_) => Err(format!("must be a whole number from {min} to {max}")),
    }
}

/// What a signup shows and what the organiser receives: asked for in the signup
/// request, then shown to the person who holds the mailbox on the confirmation page,
/// who confirms it or changes it. Nothing a request asks for is published until then.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupDetails {
    pub name: String,
    pub country: Option<String>,
    pub postcode: Option<String>,
    pub comment: Option<String>,
    pub amount: Option<u64>,
    /// Whether the name (and country, comment or amount) is in the public list.
    pub public: bool,
}

/// A signup to a petition (`name, email, country?, postcode?, comment?`) or a pledge
/// (`name, email, amount?`), with `public` and `consent: true` for both.
#[derive(Debug, Clone)]
pub struct NewSignup {
    pub email: Email,
    pub details: SignupDetails,
}

impl NewSignup {
    pub fn from_json(map: Map<String, Value>, kind: Kind) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(map);
        let email = f.take("email", required(Email::parse));
        let details = take_details(&mut f, kind, None);
        f.take("consent", |v| match v {
            Some(Value::Bool(true)) => Ok(()),
            _ => Err("must be true: a signup needs your consent".to_string()),
        });
        f.honeypot();
        f.finish()?;
        Ok(Self { email: email.expect("checked"), details: details.expect("checked") })
    }
}

impl SignupDetails {
    /// The details a person confirms: each field they sent, or else what the signup
    /// request asked for; but public only when they say so now.
    pub fn confirmed(map: Map<String, Value>, kind: Kind, requested: &SignupDetails) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(map);
        let details = take_details(&mut f, kind, Some(requested));
        f.finish()?;
        Ok(details.expect("checked"))
    }
}

/// The detail fields of `kind`; absent ones come from `defaults` where given.
fn take_details(f: &mut Fields, kind: Kind, defaults: Option<&SignupDetails>) -> Option<SignupDetails> {
    let or_default = |value: Option<Value>, default: Option<&String>| match (value, default) {
        (None, Some(default)) => Some(Value::String(default.clone())),
        (value, _) => value,
    };
    let name = f.take("name", |v| required(single_line(100))(or_default(v, defaults.map(|d| &d.name))));
    let (country, postcode, comment, amount) = match kind {
        Kind::Petition => (
            f.take("country", |v| {
                optional_blank(single_line(60))(or_default(v, defaults.and_then(|d| d.country.as_ref())))
            }),
            f.take("postcode", |v| {
                optional_blank(single_line(20))(or_default(v, defaults.and_then(|d| d.postcode.as_ref())))
            }),
            f.take("comment", |v| {
                optional_blank(plain_text(1_000))(or_default(v, defaults.and_then(|d| d.comment.as_ref())))
            }),
            Some(None),
        ),
        Kind::Pledge => (
            Some(None),
            Some(None),
            Some(None),
            f.take("amount", |v| match v {
                None => Ok(defaults.and_then(|d| d.amount)),
                Some(Value::Null) => Ok(None),
                other => whole(1, MAX_AMOUNT)(other).map(Some),
            }),
        ),
    };
    let public = f.take("public", |v| match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err("must be true or false".to_string()),
    });
    Some(SignupDetails {
        name: name?,
        country: country?,
        postcode: postcode?,
        comment: comment?,
        amount: amount?,
        public: public?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn email(raw: &str) -> Email {
        Email::parse(raw).unwrap()
    }

    #[test]
    fn one_person_one_address() {
        let same = ["Min.Jun@gmail.com", " minjun+petition@GMAIL.com", "m.i.n.j.u.n@googlemail.com"];
        for raw in same {
            assert_eq!(normalise_email(&email(raw)), "minjun@gmail.com", "{raw}");
        }
        assert_eq!(normalise_email(&email("Ji.Woo+news@example.org")), "ji.woo@example.org", "dots matter elsewhere");
    }

    #[test]
    fn signups_need_consent_and_valid_fields() {
        let err = NewSignup::from_json(
            json!({"name": "", "email": "nope", "consent": false, "public": "yes", "amount": 3})
                .as_object()
                .unwrap()
                .clone(),
            Kind::Petition,
        )
        .unwrap_err();
        let fields = err;
        for name in ["name", "email", "consent", "public", "amount"] {
            assert!(fields.get(name).is_some(), "{name}");
        }
        let pledge = NewSignup::from_json(
            json!({"name": "A", "email": "a@example.com", "consent": true, "amount": -3}).as_object().unwrap().clone(),
            Kind::Pledge,
        );
        assert!(pledge.is_err(), "negative amounts are refused");
        let absurd = NewSignup::from_json(
            json!({"name": "A", "email": "a@example.com", "consent": true, "amount": 10_000_000_000u64})
                .as_object()
                .unwrap()
                .clone(),
            Kind::Pledge,
        );
        assert!(absurd.is_err(), "absurd amounts are refused");
    }

    #[test]
    fn a_confirmation_is_private_unless_it_says_otherwise() {
        let requested = SignupDetails {
            name: "Made Up".into(),
            country: Some("Nowhere".into()),
            postcode: None,
            comment: Some("Not mine".into()),
            amount: None,
            public: true,
        };
        let map = |v: Value| v.as_object().unwrap().clone();
        let kept = SignupDetails::confirmed(map(json!({})), Kind::Petition, &requested).unwrap();
        assert_eq!(kept, SignupDetails { public: false, ..requested.clone() });
        let changed = SignupDetails::confirmed(
            map(json!({"name": "Ji-woo", "comment": "", "country": null, "public": true})),
            Kind::Petition,
            &requested,
        )
        .unwrap();
        assert_eq!(
            (changed.name.as_str(), changed.comment, changed.country, changed.public),
            ("Ji-woo", None, None, true)
        );
        let phishing =
            SignupDetails::confirmed(map(json!({"name": "x\nhttps://phish.example"})), Kind::Petition, &requested);
        assert!(phishing.is_err());
    }

    #[test]
    fn signer_keys_differ_between_campaigns() {
        let slug = |s: &str| Slug::parse(s).unwrap();
        let a = signer_key(&email("a@example.org"), "salt", Kind::Petition, &slug("one"));
        assert_ne!(a, signer_key(&email("a@example.org"), "salt", Kind::Petition, &slug("two")));
        assert_ne!(a, signer_key(&email("a@example.org"), "salt", Kind::Pledge, &slug("one")));
        assert_eq!(a, signer_key(&email("A+x@Example.org"), "salt", Kind::Petition, &slug("one")));
    }
}
