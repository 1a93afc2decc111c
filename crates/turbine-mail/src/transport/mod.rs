//! The built-in transports; [`Mailer`](crate::Mailer)'s constructors pick one.

mod console;
mod file;
mod memory;
mod smtp;

pub(crate) use console::Console;
pub(crate) use file::File;
pub(crate) use memory::Memory;
pub(crate) use smtp::Smtp;
