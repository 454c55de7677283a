//! Petitions and pledges, and the signups both take: validated input and the email
//! normalisation that makes "one signup per person" hold.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use validator::Validate;

use crate::FieldErrors;
use crate::comment::{Email, Website};
use crate::input::Fields;
use crate::post::Slug;
use crate::rules::{self, valid};
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
        /// Who is told when the goal is reached and at each milestone (never shown).
        #[serde(default)]
        organiser_email: Option<String>,
        /// Signature counts the organiser wants to hear of, besides the goal.
        #[serde(default)]
        milestones: Vec<u64>,
    },
    /// "I will give `suggested_amount` if `threshold` others will, by `deadline`."
    Pledge {
        threshold: u64,
        deadline: String,
        currency: String,
        suggested_amount: Option<u64>,
        petition: Option<String>,
        /// How and where to give once it succeeds, as the organiser wrote it: what the
        /// success mail tells every signer.
        #[serde(default)]
        fulfilment_text: Option<String>,
        #[serde(default)]
        fulfilment_url: Option<String>,
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

/// `POST /petitions` and `POST /pledges` as JSON carries them, with each field's rules;
/// the fields of the other kind are not read, so sending them is an unknown field.
#[derive(Debug, Default, Validate)]
struct CampaignForm {
    #[validate(custom(function = rules::slug))]
    slug: String,
    #[validate(custom(function = rules::text::<200>))]
    title: String,
    #[validate(custom(function = rules::text::<20_000>))]
    body: String,
    #[validate(custom(function = rules::slug))]
    post: Option<String>,
    // A petition's terms.
    #[validate(custom(function = rules::text::<200>))]
    target: Option<String>,
    #[validate(range(min = 1, max = MAX_COUNT, message = "must be a whole number from 1 to 100000000"))]
    goal: Option<u64>,
    #[validate(custom(function = rules::timestamp))]
    closes_at: Option<String>,
    #[validate(custom(function = rules::email))]
    organiser_email: Option<String>,
    #[validate(length(max = MAX_MILESTONES, message = "at most 20 milestones"), custom(function = rules::counts))]
    milestones: Vec<u64>,
    // A pledge's terms.
    #[validate(range(min = 1, max = MAX_COUNT, message = "must be a whole number from 1 to 100000000"))]
    threshold: Option<u64>,
    #[validate(custom(function = rules::timestamp))]
    deadline: Option<String>,
    #[validate(custom(function = rules::currency))]
    currency: Option<String>,
    #[validate(range(min = 1, max = MAX_AMOUNT, message = "must be a whole number from 1 to 1000000"))]
    suggested_amount: Option<u64>,
    #[validate(custom(function = rules::slug))]
    petition: Option<String>,
    #[validate(custom(function = rules::plain::<MAX_FULFILMENT>))]
    fulfilment_text: Option<String>,
    #[validate(custom(function = rules::website))]
    fulfilment_url: Option<String>,
}

/// The most milestones a petition announces.
pub const MAX_MILESTONES: u64 = 20;

/// The longest fulfilment instructions a pledge carries.
pub const MAX_FULFILMENT: usize = 2_000;

impl NewCampaign {
    pub fn from_json(map: Map<String, Value>, kind: Kind) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(map);
        let mut form = CampaignForm {
            slug: f.required_string("slug"),
            title: f.required_string("title"),
            body: f.required_string("body"),
            post: f.string("post"),
            ..CampaignForm::default()
        };
        match kind {
            Kind::Petition => {
                form.target = Some(f.required_string("target"));
                form.goal = Some(f.required_whole("goal"));
                form.closes_at = f.string("closes_at");
                form.organiser_email = f.blankable("organiser_email");
                form.milestones = f.wholes("milestones");
            }
            Kind::Pledge => {
                form.threshold = Some(f.required_whole("threshold"));
                form.deadline = Some(f.required_string("deadline"));
                form.currency = f.string("currency");
                form.suggested_amount = f.nullable_whole("suggested_amount").flatten();
                form.petition = f.string("petition");
                form.fulfilment_text = f.blankable("fulfilment_text");
                form.fulfilment_url = f.blankable("fulfilment_url");
            }
        }
        f.finish(form.validate())?;
        let time = |raw: Option<String>| raw.map(|at| t::format(valid(t::parse(&at))));
        let terms = match kind {
            Kind::Petition => Terms::Petition {
                target: form.target.unwrap_or_default().trim().to_owned(),
                goal: form.goal.unwrap_or_default(),
                closes_at: time(form.closes_at),
                organiser_email: form.organiser_email.map(|e| valid(Email::parse(&e)).as_ref().to_owned()),
                milestones: {
                    let mut milestones = form.milestones;
                    milestones.sort_unstable();
                    milestones.dedup();
                    milestones
                },
            },
            Kind::Pledge => Terms::Pledge {
                threshold: form.threshold.unwrap_or_default(),
                deadline: time(form.deadline).unwrap_or_default(),
                currency: form.currency.map_or_else(|| "USD".into(), |code| valid(currency(&code))),
                suggested_amount: form.suggested_amount,
                petition: form.petition.map(|p| valid(Slug::parse(&p)).to_string()),
                fulfilment_text: form.fulfilment_text.map(|text| text.trim().to_owned()),
                fulfilment_url: form.fulfilment_url.map(|url| valid(Website::parse(&url)).as_ref().to_owned()),
            },
        };
        Ok(Self {
            slug: valid(Slug::parse(&form.slug)),
            title: form.title.trim().to_owned(),
            body: form.body.trim().to_owned(),
            post: form.post.map(|p| valid(Slug::parse(&p))),
            terms,
        })
    }
}

/// Goals and thresholds: up to a number no campaign sets by mistake.
pub const MAX_COUNT: u64 = 100_000_000;
/// Pledged amounts are whole units of the currency, up to a sum no one pledges by mistake.
pub const MAX_AMOUNT: u64 = 1_000_000;

pub(crate) fn currency(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be a three-letter currency code such as USD".into())
    }
}

/// An organiser's update to a campaign's signers: a subject line and a body (plain text
/// or Markdown, mailed as written).
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Validate)]
struct UpdateForm {
    #[validate(custom(function = rules::one_line::<200>))]
    subject: String,
    #[validate(custom(function = rules::plain::<20_000>))]
    body: String,
}

impl NewUpdate {
    pub fn from_json(map: Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(map);
        let form = UpdateForm { subject: f.required_string("subject"), body: f.required_string("body") };
        f.finish(form.validate())?;
        Ok(Self { subject: form.subject.trim().to_owned(), body: form.body.trim().to_owned() })
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
    /// Whether the organiser's updates about the campaign may be mailed to the signer.
    /// Like `public`, only the address's holder sets it, when confirming.
    #[serde(default)]
    pub updates: bool,
}

/// A signup to a petition (`name, email, country?, postcode?, comment?`) or a pledge
/// (`name, email, amount?`), with `public` and `consent: true` for both.
#[derive(Debug, Clone)]
pub struct NewSignup {
    pub email: Email,
    pub details: SignupDetails,
}

/// A signup request or a confirmation as JSON carries it, with each field's rules; a
/// confirmation has no `email` or `consent`, and each kind reads only its own details.
#[derive(Debug, Default, Validate)]
struct SignupForm {
    #[validate(custom(function = rules::email))]
    email: Option<String>,
    #[validate(custom(function = rules::one_line::<100>))]
    name: String,
    #[validate(custom(function = rules::one_line::<60>))]
    country: Option<String>,
    #[validate(custom(function = rules::one_line::<20>))]
    postcode: Option<String>,
    #[validate(custom(function = rules::plain::<1_000>))]
    comment: Option<String>,
    #[validate(range(min = 1, max = MAX_AMOUNT, message = "must be a whole number from 1 to 1000000"))]
    amount: Option<u64>,
}

impl SignupForm {
    /// The detail fields of `kind`; those a confirmation leaves out come from what the
    /// request asked for (`defaults`), except `public`, which is false unless sent.
    fn read(f: &mut Fields, kind: Kind, defaults: Option<&SignupDetails>) -> (Self, Choices) {
        // Absent: what the request asked for; `null` or blank: nothing.
        let kept = |f: &mut Fields, name: &str, default: Option<&String>| match default {
            Some(default) if !f.has(name) => Some(default.clone()),
            _ => blank_is_none(f.string(name)),
        };
        let name = match defaults {
            Some(d) if !f.has("name") => d.name.clone(),
            _ => f.required_string("name"),
        };
        let mut form = Self { name, ..Self::default() };
        match kind {
            Kind::Petition => {
                form.country = kept(f, "country", defaults.and_then(|d| d.country.as_ref()));
                form.postcode = kept(f, "postcode", defaults.and_then(|d| d.postcode.as_ref()));
                form.comment = kept(f, "comment", defaults.and_then(|d| d.comment.as_ref()));
            }
            Kind::Pledge => {
                form.amount = match f.nullable_whole("amount") {
                    None => defaults.and_then(|d| d.amount),
                    Some(sent) => sent,
                };
            }
        }
        let choices =
            Choices { public: f.flag("public").unwrap_or(false), updates: f.flag("updates").unwrap_or(false) };
        (form, choices)
    }

    fn details(self, choices: Choices) -> SignupDetails {
        SignupDetails {
            name: self.name.trim().to_owned(),
            country: self.country.map(|c| c.trim().to_owned()),
            postcode: self.postcode.map(|p| p.trim().to_owned()),
            comment: self.comment.map(|c| c.trim().to_owned()),
            amount: self.amount,
            public: choices.public,
            updates: choices.updates,
        }
    }
}

/// The two choices only the address's holder makes, when confirming: false unless sent.
#[derive(Debug, Clone, Copy)]
struct Choices {
    public: bool,
    updates: bool,
}

fn blank_is_none(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

impl NewSignup {
    pub fn from_json(map: Map<String, Value>, kind: Kind) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(map);
        let email = f.required_string("email");
        let (mut form, choices) = SignupForm::read(&mut f, kind, None);
        form.email = Some(email);
        f.take("consent", |v| match v {
            Some(Value::Bool(true)) => Ok(()),
            _ => Err("must be true: a signup needs your consent".to_string()),
        });
        f.honeypot();
        f.finish(form.validate())?;
        let email = valid(Email::parse(form.email.as_deref().unwrap_or_default()));
        Ok(Self { email, details: form.details(choices) })
    }
}

impl SignupDetails {
    /// The details a person confirms: each field they sent, or else what the signup
    /// request asked for; but public only when they say so now.
    pub fn confirmed(map: Map<String, Value>, kind: Kind, requested: &SignupDetails) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(map);
        let (form, choices) = SignupForm::read(&mut f, kind, Some(requested));
        f.finish(form.validate())?;
        Ok(form.details(choices))
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
            updates: true,
        };
        let map = |v: Value| v.as_object().unwrap().clone();
        let kept = SignupDetails::confirmed(map(json!({})), Kind::Petition, &requested).unwrap();
        assert_eq!(kept, SignupDetails { public: false, updates: false, ..requested.clone() });
        let opted = SignupDetails::confirmed(map(json!({"updates": true})), Kind::Petition, &requested).unwrap();
        assert!(opted.updates && !opted.public);
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
