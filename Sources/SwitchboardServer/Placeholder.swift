enum PlaceholderSwitchboardServer {}
