enum PlaceholderSwitchboardEngine {}
