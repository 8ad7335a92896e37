import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import QRCode from 'qrcode';

/** A Lightning invoice as a QR code (BOLT 11 under the `lightning:` scheme) and as copyable text. */
export function Invoice({ paymentRequest, amountSats, children }: { paymentRequest: string; amountSats: number; children?: ComponentChildren }) {
  const [src, setSrc] = useState('');
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    QRCode.toDataURL(`lightning:${paymentRequest.toUpperCase()}`, { errorCorrectionLevel: 'M', margin: 1, width: 240 }).then(setSrc);
  }, [paymentRequest]);
  return (
    <section class="invoice" aria-labelledby="invoice-h">
      <h3 id="invoice-h">Pay {amountSats} sats</h3>
      {src && <img src={src} width={240} height={240} alt={`QR code of the Lightning invoice for ${amountSats} sats`} />}
      <label>
        Payment request <textarea readOnly rows={3} value={paymentRequest} data-testid="payment-request" />
      </label>
      <button
        onClick={async () => {
          await navigator.clipboard?.writeText(paymentRequest);
          setCopied(true);
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
      {children}
    </section>
  );
}
