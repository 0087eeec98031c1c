"""The Billing Center's areas, one blueprint each."""
