//! A petition's milestones: its organiser (the address on the petition, or
//! `ORGANISER_EMAIL`) is told once when the count reaches each milestone they chose,
//! and once when it reaches the goal.

use std::collections::BTreeMap;

use app::campaign::Kind;
use app::mail::Mail;
use app::store::campaigns::Terms;
use app::store::{Signup, keys};
use app::time as t;

use crate::{Events, RecordError};

impl Events {
    /// A confirmed signature (a new `SIGNUP#` item in a petition's shard).
    pub(crate) async fn on_petition_signup(&self, signup: Signup) -> Result<(), RecordError> {
        let Some((Kind::Petition, slug)) = signup.campaign() else { return Ok(()) };
        let store = &self.app.store;
        let Some(campaign) = store.campaign_only(Kind::Petition, &slug).await? else { return Ok(()) };
        let Terms::Petition { goal, organiser_email, milestones, .. } = &campaign.terms else { return Ok(()) };
        let organiser =
            organiser_email.clone().or_else(|| self.app.config.organiser_email.as_ref().map(|e| e.as_ref().to_owned()));
        let Some(organiser) = organiser else { return Ok(()) };
        let tally = store.tally(Kind::Petition, &slug).await?;
        // Every milestone reached and not yet announced; each is mailed once, whoever
        // gets here first, and then marked so that later signatures skip it.
        let mut reached: Vec<u64> =
            milestones.iter().chain([goal]).copied().filter(|m| *m > campaign.announced && *m <= tally.count).collect();
        reached.sort_unstable();
        reached.dedup();
        let highest = reached.last().copied();
        for milestone in reached {
            let is_goal = milestone == *goal;
            let title = &campaign.title;
            let (subject, text) = match is_goal {
                true => (
                    format!("Goal reached: {title}"),
                    format!(
                        "Hello,\n\nthe petition \"{title}\" has reached its goal of {goal} confirmed signatures. The \
                         signatures can be exported for delivery to the target.\n"
                    ),
                ),
                false => (
                    format!("{milestone} signatures: {title}"),
                    format!(
                        "Hello,\n\nthe petition \"{title}\" has {milestone} confirmed signatures (its goal is {goal}).\n"
                    ),
                ),
            };
            let mail = Mail {
                to: organiser.clone(),
                subject,
                text,
                links: Vec::new(),
                headers: BTreeMap::new(),
                sent_at: t::format(self.app.clock.now()),
            };
            self.send_once(&keys::milestone_cause(&campaign.slug, milestone), mail).await?;
        }
        if let Some(highest) = highest {
            store.mark_announced(&slug, highest).await?;
        }
        Ok(())
    }
}
