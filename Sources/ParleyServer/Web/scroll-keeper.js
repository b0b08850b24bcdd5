// Where the message list is scrolled: following the newest answer as it grows until the user scrolls up, or
// keeping one message (opened from search) in view while the messages around it get their real heights.
const followSlack = 48; // px from the bottom that still counts as "at the bottom"

export class ScrollKeeper {
  /**
   * @param scroller the scrolling element; @param list the element whose size changes as messages do
   * @param jumpButton shown while not following; @param canFollow () => whether the newest messages are shown
   */
  constructor(scroller, list, jumpButton, canFollow) {
    this.scroller = scroller;
    this.jumpButton = jumpButton;
    this.canFollow = canFollow;
    this.following = true;
    this.pinned = null;
    this.pinnedTop = 0;
    // Only a move up stops following: text arriving, or messages getting their real height, never moves the
    // view up. Scrolling back to the bottom follows again.
    let lastTop = 0;
    scroller.addEventListener('scroll', () => {
      const top = scroller.scrollTop;
      if (this.pinned && Math.abs(top - this.pinnedTop) > 2) this.pinned = null; // the user scrolled
      if (this.distanceToBottom < followSlack && this.canFollow()) this.following = true;
      else if (top < lastTop - 1) this.following = false;
      lastTop = top;
      this.jumpButton.hidden = this.following;
    }, { passive: true });
    // Following happens here, after the browser's own layout, where reading the scroll height costs nothing
    // (right after changing the text it would force an extra layout on every frame). Likewise a pinned message
    // is put back in view as the messages around it get their real heights.
    new ResizeObserver(() => {
      if (this.following) this.toBottom();
      else if (this.pinned?.isConnected) this.pin(this.pinned);
    }).observe(list);
  }

  get distanceToBottom() { return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight; }

  /** Starts over for another conversation: following the newest, or not (until `pin` or `follow`). */
  reset(following) {
    this.following = following;
    this.pinned = null;
    this.jumpButton.hidden = true;
  }

  /** Goes to the bottom and follows what arrives there. */
  follow() {
    this.reset(true);
    this.toBottom();
  }

  /** Goes to the bottom without following (the newest messages are not on screen yet). */
  toBottomOnly() {
    this.reset(false);
    this.jumpButton.hidden = false;
    this.toBottom();
  }

  /** Puts a message in the middle of the view and keeps it there until the user scrolls. */
  pin(element) {
    this.following = false;
    this.jumpButton.hidden = false;
    this.pinned = element;
    element.scrollIntoView({ block: 'center' });
    this.pinnedTop = this.scroller.scrollTop;
  }

  toBottom() { this.scroller.scrollTop = this.scroller.scrollHeight; }

  /** Adds content above what is shown without moving what is shown. */
  keepingPlace(addAbove) {
    const before = this.scroller.scrollHeight;
    addAbove();
    this.scroller.scrollTop += this.scroller.scrollHeight - before;
  }
}
