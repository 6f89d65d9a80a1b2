"""Triggers: audiences, campaigns, caps, recommendations, decisions and attribution."""
