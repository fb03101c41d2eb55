enum PlaceholderSwitchboardClient {}
