// Microphone capture for Sayso: mono, resampled to 16 kHz, posted as 16-bit PCM every ~100 ms.
// Runs on the audio thread; the page sends each chunk over the WebSocket as it arrives.
class SaysoCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000; // input samples per output sample
    this.position = 0; // fractional read position into the incoming stream
    this.previous = 0; // last input sample, for interpolation across blocks
    this.out = new Int16Array(1600);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    // Linear interpolation: good enough for speech recognition, and cheap on the audio thread.
    while (this.position < channel.length) {
      const index = Math.floor(this.position);
      const frac = this.position - index;
      const before = index === 0 ? this.previous : channel[index - 1];
      const sample = before + (channel[index] - before) * frac;
      this.out[this.filled++] = Math.max(-1, Math.min(1, sample)) * 32767;
      if (this.filled === this.out.length) {
        this.port.postMessage(this.out.buffer, [this.out.buffer]);
        this.out = new Int16Array(1600);
        this.filled = 0;
      }
      this.position += this.ratio;
    }
    this.position -= channel.length;
    this.previous = channel[channel.length - 1];
    return true;
  }
}

registerProcessor("sayso-capture", SaysoCapture);
