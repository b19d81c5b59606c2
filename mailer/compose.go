package mailer

import (
	"bytes"
	"fmt"
	stdmail "net/mail"
	"strings"
	"unicode"

	qrcode "github.com/skip2/go-qrcode"
	"github.com/wneessen/go-mail"
)

// compose builds the MIME message for a stored row.
//
// Without a calendar it is multipart/alternative (text, then HTML) or a
// single text/plain part. With one it follows RFC 6047 and what Outlook and
// Gmail send:
//
//	multipart/mixed
//	  multipart/alternative
//	    text/plain; charset=utf-8
//	    text/html; charset=utf-8
//	    text/calendar; method=REQUEST; charset=utf-8   (base64)
//	  application/ics; name="invite.ics"               (attachment, base64)
//
// go-mail writes a part's Content-Type as "<content type>; charset=<charset>",
// so passing "text/calendar; method=REQUEST" as the content type gives the
// method parameter RFC 6047 requires (parameter order does not matter).
//
// Every header value is cleaned of control characters again here, although
// Enqueue refused them: a row may have been written by other means.
//
// smtputf8 says whether the relay offers SMTPUTF8. With it, an address
// with non-ASCII before the @ goes into To and Reply-To as UTF-8 (RFC 6532:
// net/mail writes such a local part as it is, and encodes only display
// names, RFC 2047); the worker's MAIL FROM then carries the SMTPUTF8
// parameter (go-mail's smtp client adds it whenever the relay offers it).
// Without it, a message to such an address cannot be sent
// (errNeedsSMTPUTF8), and such a Reply-To is left out rather than fail
// the message: replies then go to From.
func compose(s Stored, cfg Config, smtputf8 bool) (*mail.Msg, error) {
	from, err := sendableAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	to, err := ParseAddress(s.To)
	if err != nil {
		return nil, fmt.Errorf("to address: %w", err)
	}
	if to.UTF8 && !smtputf8 {
		return nil, errNeedsSMTPUTF8
	}

	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	m.SetAddrHeaderFromMailAddress(mail.HeaderFrom, &stdmail.Address{Name: oneLine(cfg.FromName), Address: from})
	m.SetAddrHeaderFromMailAddress(mail.HeaderTo, &stdmail.Address{Name: oneLine(s.ToName), Address: to.Send})
	if strings.TrimSpace(s.ReplyTo) != "" {
		replyTo, err := ParseAddress(s.ReplyTo)
		if err != nil {
			return nil, fmt.Errorf("reply-to address: %w", err)
		}
		if !replyTo.UTF8 || smtputf8 {
			m.SetAddrHeaderFromMailAddress(mail.HeaderReplyTo, &stdmail.Address{Address: replyTo.Send})
		}
	}
	m.Subject(oneLine(s.Subject))
	m.SetMessageIDWithValue(strings.Trim(oneLine(completeMessageID(s.MessageID, cfg.fromDomain())), "<>"))
	// The Date is when the message was queued, so every attempt sends the
	// same message.
	m.SetDateWithValue(s.CreatedAt)
	// RFC 3834: no out-of-office replies to confirmations and reminders.
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")

	m.SetBodyString(mail.TypeTextPlain, s.TextBody, mail.WithPartCharset(charsetUTF8))
	if s.HTMLBody != "" {
		m.AddAlternativeString(mail.TypeTextHTML, s.HTMLBody, mail.WithPartCharset(charsetUTF8))
	}
	if len(s.Calendar) > 0 {
		method := strings.ToUpper(oneLine(s.CalendarMethod))
		if !validMethod(method) {
			return nil, fmt.Errorf("calendar method %q is not allowed", method)
		}
		m.AddAlternativeString(mail.ContentType("text/calendar; method="+method), string(s.Calendar),
			mail.WithPartCharset(charsetUTF8), mail.WithPartEncoding(mail.EncodingB64))
		if err := m.AttachReader("invite.ics", bytes.NewReader(s.Calendar),
			mail.WithFileContentType("application/ics")); err != nil {
			return nil, fmt.Errorf("attach invite.ics: %w", err)
		}
	}
	if s.QRCode != "" && s.HTMLBody != "" {
		png, err := qrcode.Encode(s.QRCode, qrcode.Medium, qrSize)
		if err != nil {
			return nil, fmt.Errorf("QR code: %w", err)
		}
		// multipart/related around the alternatives: the image is part of
		// the HTML, not an attachment
		if err := m.EmbedReader("qr.png", bytes.NewReader(png), mail.WithFileContentID("<"+QRContentID+">"), // RFC 2392: in angle brackets
			mail.WithFileContentType(mail.ContentType("image/png"))); err != nil {
			return nil, fmt.Errorf("embed the QR code: %w", err)
		}
	}
	return m, nil
}

// QRContentID is the Content-ID of a message's QR code image: its HTML
// shows it as <img src="cid:QRContentID">.
const QRContentID = "qr@moteplass"

// qrSize is the side of the QR code image in pixels: large enough to be
// scanned from a phone held up at the door, small for an email (~1 KB).
const qrSize = 256

// maxQRCode bounds the text of a QR code (a check-in address is ~80 bytes).
const maxQRCode = 512

// charsetUTF8 is written in lower case, as in RFC 6047's examples; charset
// names are case-insensitive.
const charsetUTF8 = mail.Charset("utf-8")

func validMethod(m string) bool {
	return m == MethodPublish || m == MethodRequest || m == MethodCancel
}

// oneLine replaces line breaks and other control characters by spaces: the
// last guard against a value that would start a header of its own.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
