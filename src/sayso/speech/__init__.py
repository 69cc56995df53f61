"""Speech: speech-to-text and text-to-speech, one small interface each."""
