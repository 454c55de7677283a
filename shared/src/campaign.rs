//! Petitions and pledges, and the signups both take: validated input and the email
//! normalisation that makes "one signup per person" hold.

use serde_json::{Map, Value};

use crate::comment::Email;
use crate::error::ApiError;
use crate::input::{Fields, optional, optional_blank, required, text};
use crate::post::Slug;
use crate::time::{self as t, Timestamp};

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

/// The key a person's signups are stored under: a salted hash of the normalised address,
/// so uniqueness lives in the key, and a key (which public list cursors carry) cannot be
/// matched against a guessed address without the deployment's secret.
pub fn signer_key(email: &Email, salt: &str) -> String {
    crate::config::sha256_hex(format!("{salt}|email:{}", normalise_email(email)).as_bytes())
}

/// A new petition, from `POST /petitions`.
#[derive(Debug, Clone)]
pub struct NewPetition {
    pub slug: Slug,
    pub title: String,
    pub body: String,
    pub target: String,
    pub goal: u64,
    pub closes_at: Option<Timestamp>,
    pub post: Option<Slug>,
}

impl NewPetition {
    pub fn from_json(map: Map<String, Value>) -> Result<Self, ApiError> {
        let mut f = Fields::new(map);
        let slug = f.take("slug", required(Slug::parse));
        let title = f.take("title", required(text(200)));
        let body = f.take("body", required(text(20_000)));
        let target = f.take("target", required(text(200)));
        let goal = f.take("goal", whole(1, 100_000_000));
        let closes_at = f.take("closes_at", optional(t::parse));
        let post = f.take("post", optional(Slug::parse));
        f.finish()?;
        Ok(Self {
            slug: slug.expect("checked"),
            title: title.expect("checked"),
            body: body.expect("checked"),
            target: target.expect("checked"),
            goal: goal.expect("checked"),
            closes_at: closes_at.expect("checked"),
            post: post.expect("checked"),
        })
    }
}

/// A new pledge, from `POST /pledges`: "I will give `suggested_amount` if `threshold`
/// others will, by `deadline`".
#[derive(Debug, Clone)]
pub struct NewPledge {
    pub slug: Slug,
    pub title: String,
    pub body: String,
    pub threshold: u64,
    pub deadline: Timestamp,
    pub currency: String,
    pub suggested_amount: Option<u64>,
    pub petition: Option<Slug>,
    pub post: Option<Slug>,
}

impl NewPledge {
    pub fn from_json(map: Map<String, Value>) -> Result<Self, ApiError> {
        let mut f = Fields::new(map);
        let slug = f.take("slug", required(Slug::parse));
        let title = f.take("title", required(text(200)));
        let body = f.take("body", required(text(20_000)));
        let threshold = f.take("threshold", whole(1, 100_000_000));
        let deadline = f.take("deadline", required(t::parse));
        let currency = f.take("currency", optional(currency)).map(|c| c.unwrap_or_else(|| "USD".into()));
        let suggested = f.take("suggested_amount", |v| match v {
            None | Some(Value::Null) => Ok(None),
            other => whole(1, MAX_AMOUNT)(other).map(Some),
        });
        let petition = f.take("petition", optional(Slug::parse));
        let post = f.take("post", optional(Slug::parse));
        f.finish()?;
        Ok(Self {
            slug: slug.expect("checked"),
            title: title.expect("checked"),
            body: body.expect("checked"),
            threshold: threshold.expect("checked"),
            deadline: deadline.expect("checked"),
            currency: currency.expect("checked"),
            suggested_amount: suggested.expect("checked"),
            petition: petition.expect("checked"),
            post: post.expect("checked"),
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

/// A signup to a petition (`name, email, country?, postcode?, comment?`) or a pledge
/// (`name, email, amount?`), with `public` and `consent: true` for both.
#[derive(Debug, Clone)]
pub struct NewSignup {
    pub name: String,
    pub email: Email,
    pub country: Option<String>,
    pub postcode: Option<String>,
    pub comment: Option<String>,
    pub amount: Option<u64>,
    pub public: bool,
}

impl NewSignup {
    pub fn from_json(map: Map<String, Value>, kind: Kind) -> Result<Self, ApiError> {
        let mut f = Fields::new(map);
        let name = f.take("name", required(text(100)));
        let email = f.take("email", required(Email::parse));
        let (country, postcode, comment, amount) = match kind {
            Kind::Petition => (
                f.take("country", optional_blank(text(60))),
                f.take("postcode", optional_blank(text(20))),
                f.take("comment", optional_blank(text(1_000))),
                Some(None),
            ),
            Kind::Pledge => (
                Some(None),
                Some(None),
                Some(None),
                f.take("amount", |v| match v {
                    None | Some(Value::Null) => Ok(None),
                    other => whole(1, MAX_AMOUNT)(other).map(Some),
                }),
            ),
        };
        let public = f.take("public", |v| match v {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err("must be true or false".to_string()),
        });
        f.take("consent", |v| match v {
            Some(Value::Bool(true)) => Ok(()),
            _ => Err("must be true: a signup needs your consent".to_string()),
        });
        f.honeypot();
        f.finish()?;
        Ok(Self {
            name: name.expect("checked"),
            email: email.expect("checked"),
            country: country.expect("checked"),
            postcode: postcode.expect("checked"),
            comment: comment.expect("checked"),
            amount: amount.expect("checked"),
            public: public.expect("checked"),
        })
    }
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
        let ApiError::Validation(fields) = err else { panic!("422 expected") };
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
}
