mod contender;
mod setup;
mod supervisor;
mod verify;
