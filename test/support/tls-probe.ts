import { connect } from 'node:tls';

/** The serial (lower-case hex, no leading zeros) of the certificate a fresh handshake with 127.0.0.1:port gets; rejects on a handshake error or after `timeoutMs`. */
export function servedSerial(port: number, ca: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial.toLowerCase().replace(/^0+/, ''));
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`no handshake within ${String(timeoutMs)} ms`));
    });
    socket.on('error', reject);
  });
}
