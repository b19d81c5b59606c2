// Reads an iCalendar file with ical.js (Mozilla's parser, the one Thunderbird
// uses) and prints what it understood as JSON, for events/ical_test.go to
// compare with what it put in. Usage: node parse.mjs FILE.ics
//
// Times are resolved with the VTIMEZONE components of the file itself (ical.js
// has no time zone database), so this also checks our Europe/Oslo rules.
// Run with TZ=UTC: a TZID that failed to resolve would then show up as a wrong
// instant instead of silently taking the machine's zone.
import { readFileSync } from 'node:fs';
import ICAL from 'ical.js';

const text = readFileSync(process.argv[2], 'utf8');
const cal = new ICAL.Component(ICAL.parse(text));

for (const tz of cal.getAllSubcomponents('vtimezone')) {
  ICAL.TimezoneService.register(tz);
}

function time(t) {
  if (!t) return null;
  return {
    instant: t.toJSDate().toISOString(),
    local: t.toString(),
    tzid: t.timezone || (t.zone && t.zone.tzid) || '',
    offsetSeconds: t.utcOffset(),
  };
}

function address(prop) {
  return {
    value: prop.getFirstValue(),
    cn: prop.getParameter('cn') ?? null,
    partstat: prop.getParameter('partstat') ?? null,
    role: prop.getParameter('role') ?? null,
    rsvp: prop.getParameter('rsvp') ?? null,
  };
}

const out = {
  method: cal.getFirstPropertyValue('method'),
  prodid: cal.getFirstPropertyValue('prodid'),
  version: cal.getFirstPropertyValue('version'),
  calname: cal.getFirstPropertyValue('x-wr-calname'),
  timezones: cal.getAllSubcomponents('vtimezone').map((tz) => tz.getFirstPropertyValue('tzid')),
  events: cal.getAllSubcomponents('vevent').map((comp) => {
    const ev = new ICAL.Event(comp);
    const geo = comp.getFirstPropertyValue('geo');
    const org = comp.getFirstProperty('organizer');
    return {
      uid: ev.uid,
      summary: ev.summary,
      description: ev.description,
      location: ev.location,
      url: comp.getFirstPropertyValue('url'),
      status: comp.getFirstPropertyValue('status'),
      sequence: ev.sequence,
      geo: geo ? geo.map(Number) : null,
      dtstamp: comp.getFirstPropertyValue('dtstamp').toJSDate().toISOString(),
      start: time(ev.startDate),
      end: time(ev.endDate),
      organizer: org ? address(org) : null,
      attendees: comp.getAllProperties('attendee').map(address),
    };
  }),
};

process.stdout.write(JSON.stringify(out));
