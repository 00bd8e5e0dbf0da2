"""Pictures: the card, the owner's charts, reading QR codes from photos."""
