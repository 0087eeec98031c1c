"""The Enterprise portal's areas, one blueprint each."""
