mod browser;
mod report;
