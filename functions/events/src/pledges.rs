//! A pledge's outcome, the reason a conditional pledge exists: when its confirmed signups
//! reach the threshold every signer is told it succeeded and how to give; when the
//! deadline passes short of it, each is told they owe nothing. A signer who confirms
//! after success is told on confirming.

use app::campaign::Kind;
use app::mail::Mail;
use app::store::campaigns::Terms;
use app::store::keys;
use app::store::{Campaign, CampaignUpdate, Job, Next, OutboxItem, Outcome, Signup};
use app::time::{self as t, Timestamp};

use crate::{Events, RecordError};

impl Events {
    /// A confirmed signup (a new `SIGNUP#` item in a pledge's shard).
    pub(crate) async fn on_pledge_signup(&self, signup: Signup) -> Result<(), RecordError> {
        let Some((Kind::Pledge, slug)) = signup.campaign() else { return Ok(()) };
        let store = &self.app.store;
        let Some((campaign, tally)) = store.campaign(Kind::Pledge, &slug).await? else { return Ok(()) };
        let Terms::Pledge { threshold, .. } = campaign.terms else { return Ok(()) };
        let now = self.app.clock.now();
        let settled = match campaign.outcome {
            None if tally.count >= threshold => {
                if store.settle_pledge(&slug, Outcome::Succeeded, now).await? {
                    tracing::info!(pledge = %slug, signups = tally.count, "pledge succeeded; mailing its signers");
                    // The job mails every signer, this one among them.
                    return Ok(());
                }
                // Settled meanwhile by another confirmation.
                store.campaign_only(Kind::Pledge, &slug).await?.and_then(|c| c.outcome)
            }
            outcome => outcome,
        };
        if settled == Some(Outcome::Succeeded) {
            // Confirmed after success: this signer's success mail now.
            if let Some(mail) = outcome_mail(&campaign, Outcome::Succeeded, &signup, tally.count, now) {
                store.queue_once(&mail).await?;
            }
        }
        Ok(())
    }

    /// Settles each pledge whose deadline has passed unsettled: failed short of its
    /// threshold (succeeded, should the count have reached it unnoticed).
    pub(crate) async fn settle_past_deadlines(&self) -> Result<usize, RecordError> {
        let store = &self.app.store;
        let now = self.app.clock.now();
        let mut settled = 0;
        for campaign in store.pledges_past_deadline(now).await? {
            let slug = app::post::Slug::parse(&campaign.slug).map_err(RecordError::Unreadable)?;
            let tally = store.tally(Kind::Pledge, &slug).await?;
            let Terms::Pledge { threshold, .. } = campaign.terms else { continue };
            let outcome = if tally.count >= threshold { Outcome::Succeeded } else { Outcome::Failed };
            if store.settle_pledge(&slug, outcome, now).await? {
                tracing::info!(pledge = %slug, outcome = outcome.as_str(), signups = tally.count, "pledge settled at its deadline");
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// One page of a fan-out job (a new or moved `JOB#` item), if it is still at the step
    /// the record shows.
    pub(crate) async fn on_job(&self, seen: Job) -> Result<(), RecordError> {
        let store = &self.app.store;
        let Some(job) = store.job(&seen.name).await? else { return Ok(()) };
        if job.done || job.step != seen.step {
            return Ok(());
        }
        let (kind, slug) = job.campaign()?;
        let Some((campaign, tally)) = store.campaign(kind, &slug).await? else { return Ok(()) };
        let update = match &job.update {
            Some(id) => {
                Some(store.update(id).await?.ok_or_else(|| RecordError::Unreadable("a job's update is gone".into()))?)
            }
            None => None,
        };
        if let (0, Some(outcome), Terms::Pledge { threshold, .. }) = (job.step, job.outcome, &campaign.terms) {
            let data = serde_json::json!({
                "pledge": campaign.slug, "title": campaign.title, "signups": tally.count, "threshold": threshold,
            });
            self.hook(&format!("pledge.{}", outcome.as_str()), &campaign.slug, data).await?;
        }
        let now = self.app.clock.now();
        let (signups, next) = store.job_page(&job, app::store::jobs::JOB_PAGE).await?;
        let mails: Vec<OutboxItem> = match (&update, job.outcome) {
            // An update goes only to those who asked for updates when confirming.
            (Some(update), _) => signups
                .iter()
                .filter(|signup| signup.details.updates)
                .filter_map(|signup| self.update_mail(&campaign, update, signup, now))
                .collect(),
            (None, Some(outcome)) => {
                signups.iter().filter_map(|signup| outcome_mail(&campaign, outcome, signup, tally.count, now)).collect()
            }
            (None, None) => return Err(RecordError::Unreadable("a job that mails nothing".into())),
        };
        store.queue_mails(&mails).await?;
        let done = next == Next::Done;
        if store.advance_job(&job, next, mails.len() as u64, now).await? && done {
            tracing::info!(job = %job.name, mails = job.queued + mails.len() as u64, "fan-out job done");
        }
        Ok(())
    }

    /// One signer's copy of an organiser's update: the organiser's words, then why it
    /// came and how to stop it (`List-Unsubscribe` too).
    fn update_mail(
        &self,
        campaign: &Campaign,
        update: &CampaignUpdate,
        signup: &Signup,
        now: Timestamp,
    ) -> Option<OutboxItem> {
        let email = app::comment::Email::parse(&signup.email).ok()?;
        let (unsubscribe, headers) =
            self.unsubscribe(&app::campaign::address_key(&email, &self.app.config.ip_hash_salt));
        let text = format!(
            "{body}\n\n--\nYou get this because you asked for the organiser's updates when you confirmed your signup to \
             \"{title}\". To stop all mail from this blog: {unsubscribe}\n",
            body = update.body,
            title = campaign.title,
        );
        let mail = Mail {
            to: signup.email.clone(),
            subject: update.subject.clone(),
            text,
            links: vec![unsubscribe],
            headers,
            sent_at: t::format(now),
        };
        Some(OutboxItem::new(&keys::update_cause(&update.id, signup.signer()), mail, now).of_update(&update.id))
    }
}

/// One signer's mail about a pledge's outcome (`None` for a campaign that is not a
/// pledge). Everything in it but the numbers is what the organiser wrote; nothing a
/// signer sent (not even their own name) reaches it.
pub(crate) fn outcome_mail(
    campaign: &Campaign,
    outcome: Outcome,
    signup: &Signup,
    count: u64,
    now: Timestamp,
) -> Option<OutboxItem> {
    let Terms::Pledge { threshold, currency, suggested_amount, fulfilment_text, fulfilment_url, .. } = &campaign.terms
    else {
        return None;
    };
    let title = &campaign.title;
    let amount = signup.details.amount.or(*suggested_amount);
    let (subject, text, links) = match outcome {
        Outcome::Succeeded => {
            let yours = match amount {
                Some(amount) => format!("You pledged {amount} {currency}."),
                None => "You pledged to give.".to_owned(),
            };
            let how = match (fulfilment_text, fulfilment_url) {
                (None, None) => "The organiser will write to you with how to give.".to_owned(),
                (text, url) => {
                    let text = text.as_deref().unwrap_or("Here is how to give:");
                    match url {
                        Some(url) => format!("{text}\n\n{url}"),
                        None => text.to_owned(),
                    }
                }
            };
            let text = format!(
                "Hello,\n\nthe pledge \"{title}\" succeeded: {count} people pledged, and it needed {threshold}. {yours} \
                 Now is the time to give.\n\n{how}\n\nThank you for keeping your word.\n"
            );
            (format!("It worked: time to give — {title}"), text, fulfilment_url.iter().cloned().collect())
        }
        Outcome::Failed => {
            let text = format!(
                "Hello,\n\nthe pledge \"{title}\" did not reach its threshold by its deadline: {count} people pledged, \
                 and it needed {threshold}. You owe nothing; nobody is asked to give.\n\nThank you for pledging.\n"
            );
            (format!("It did not reach its threshold — {title}"), text, Vec::new())
        }
    };
    let mail =
        Mail { to: signup.email.clone(), subject, text, links, headers: Default::default(), sent_at: t::format(now) };
    Some(OutboxItem::new(&keys::outcome_cause(outcome.as_str(), &campaign.slug, signup.signer()), mail, now))
}
