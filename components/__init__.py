"""KFP components (imported as pipetune.components)."""
