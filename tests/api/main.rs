//! One integration-test binary: every test starts the local stack (the router in front
//! of every function) on a free port, over its own table in one DynamoDB Local.

mod helpers;

mod api_gateway_events;
mod campaigns;
mod comments;
mod console;
mod events;
mod faults;
mod import;
mod local_router;
mod notifications;
mod openapi;
mod posts;
mod posts_bad_input;
mod privacy;
mod secrets;
mod security;
mod strangers;
