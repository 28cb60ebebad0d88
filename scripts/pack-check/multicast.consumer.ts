// Type-checks against @udpkit/multicast's published types.
import { createSocket } from '@udpkit/core';
import { MulticastGroups, isSourceSpecificGroup, openReceiver, type Membership, type MembershipInfo, type Receiver } from '@udpkit/multicast';

const ssm: boolean = isSourceSpecificGroup('232.1.2.3');
const groups = new MulticastGroups(createSocket('udp4'));
const membership: Membership = groups.join('239.1.2.3', { interfaces: ['lo'] });
const joined: MembershipInfo[] = groups.memberships();
const receiver: Promise<Receiver> = openReceiver({ group: '232.1.2.3', source: '127.0.0.1', port: 0, interfaces: 'lo' });
void [ssm, membership, joined, receiver];

// @ts-expect-error: a group is a string
groups.join(0xe8010203);
