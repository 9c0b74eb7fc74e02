"""What the fleet services share: settings, the HTTP app skeleton, the broker connection."""
