mod verify_checks;
