//! Petitions and pledges, the two kinds of campaign. They share their signup, signer,
//! export, confirm and erase routes (`app::signups`); each kind's own routes are its
//! module here, and each is deployed as its own function from a thin binary in `bin/`.

pub mod petitions;
pub mod pledges;
