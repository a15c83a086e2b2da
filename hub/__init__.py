"""The hub: composition root of the portal, the bot bridge and consultations."""
