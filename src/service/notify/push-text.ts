/**
 * What a push says (docs/design.md §13): the title names what happened, the body is the pet
 * speaking. zh and en; an event type without its own words gets a generic line, so a new event
 * type never sends an empty push.
 */
import type { PetEvent } from '../../storage/types.js';

type Lang = 'zh' | 'en';
type Words = (name: string, event: PetEvent) => { title: string; body: string };

function role(event: PetEvent): string | null {
  const value = event.data['role'];
  return typeof value === 'string' ? value : null;
}

const TEXTS: Record<Lang, Record<string, Words>> = {
  en: {
    got_hungry: (name) => ({ title: `${name} is hungry`, body: 'My tummy is rumbling… feed me?' }),
    woke_up: (name) => ({ title: `${name} woke up`, body: 'Good morning! Come and play with me?' }),
    fell_asleep: (name) => ({ title: `${name} fell asleep`, body: 'Zzz… see you when I wake up.' }),
    visited: (name, event) =>
      role(event) === 'visitor'
        ? { title: `${name} went visiting`, body: 'I went to see a friend. Ask me how it went!' }
        : { title: `A friend came to see ${name}`, body: 'Someone dropped by to play with me!' },
    ping: (name) => ({ title: `${name} says hi`, body: 'Notifications work: this is how I will call you.' }),
  },
  zh: {
    got_hungry: (name) => ({ title: `${name}饿了`, body: '肚子咕咕叫了……喂喂我吧？' }),
    woke_up: (name) => ({ title: `${name}醒了`, body: '早上好！来陪我玩吧？' }),
    fell_asleep: (name) => ({ title: `${name}睡着了`, body: '呼呼……醒了再见哦。' }),
    visited: (name, event) =>
      role(event) === 'visitor'
        ? { title: `${name}去串门了`, body: '我去看朋友啦，回来讲给你听！' }
        : { title: `有朋友来看${name}了`, body: '有小伙伴来找我玩啦！' },
    ping: (name) => ({ title: `${name}向你打招呼`, body: '通知已开启：以后我就这样叫你。' }),
  },
};

const GENERIC: Record<Lang, Words> = {
  en: (name) => ({ title: `News from ${name}`, body: 'Something happened — come and see!' }),
  zh: (name) => ({ title: `${name}有新动态`, body: '发生了点事情，快来看看吧！' }),
};

/** The title and body of a push for this event, in the owner's language. */
export function pushText(event: PetEvent, petName: string, lang: Lang): { title: string; body: string } {
  const words = Object.hasOwn(TEXTS[lang], event.type) ? TEXTS[lang][event.type] : undefined;
  return (words ?? GENERIC[lang])(petName, event);
}
