# ruff: noqa: E501
# Prose is stored one paragraph per line, as an editor saves it: wrapping it to 100 columns
# would put line breaks inside paragraphs and inside each post's plaintext.
"""The demo site's text: five writers, twelve desks, 58 posts and three pages.

Written for Broadsheet's demo, not copied from anywhere. Eighteen long reads are written in
full; the other forty posts are short reports (a lead, a detail paragraph and three points)
that `_compose` sets in one newspaper shape with a line linking to their desk and to an earlier
long read. Everything is a constant or derived from constants in a fixed order, so every run,
on every database, writes the same site.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace

from service.slugs import slugify


@dataclass(frozen=True)
class Author:
    name: str
    beat: str  # what they cover, as a phrase for the About page
    bio: str
    location: str

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    desk: str  # the name of the author whose reports it carries

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass(frozen=True)
class Article:
    """A post ready to seed: Markdown body, topic names and author names, primary first."""

    title: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    markdown: str
    featured: bool = False
    excerpt: str | None = None
    newsletter: bool = False  # tagged with the internal #newsletter tag

    @property
    def slug(self) -> str:
        return slugify(self.title)


@dataclass(frozen=True)
class Report:
    """A short report; `_compose` turns it into an `Article` by its desk's writer."""

    title: str
    tags: tuple[str, ...]
    lead: str
    heading: str
    detail: str
    points: tuple[str, str, str]
    quote: str | None = None
    excerpt: str | None = None


@dataclass(frozen=True)
class Page:
    title: str
    markdown: str

    @property
    def slug(self) -> str:
        return slugify(self.title)


def _text(markdown: str) -> str:
    """A Markdown body written indented inside a call, flush left."""
    return textwrap.dedent(markdown).strip()


AUTHORS: tuple[Author, ...] = (
    Author(
        name="Ada Lovelace",
        beat="politics, books and culture",
        bio="Editor of the Gazette. Ada writes about local politics, books and the shared life of towns, and still answers the letters page herself. She believes a good paragraph should work like a small, well-made machine.",
        location="London",
    ),
    Author(
        name="Grace Hopper",
        beat="technology and design",
        bio="Technology and design editor. Grace built software for years before she started explaining it, and keeps a notebook of every error message that ever made her laugh.",
        location="Lisbon",
    ),
    Author(
        name="Alan Turing",
        beat="science and health",
        bio="Science and health correspondent. Alan covers research that can be checked, says so when it cannot, and sets the Gazette's Sunday puzzle.",
        location="Nairobi",
    ),
    Author(
        name="Margaret Hamilton",
        beat="climate and travel",
        bio="Climate and travel writer. Margaret reports from coastlines, station platforms and anywhere the weather is news. She prefers trains to planes and will tell you why.",
        location="Osaka",
    ),
    Author(
        name="Linus Torvalds",
        beat="food, film and music",
        bio="Contributing writer on food, film and music. Linus reviews only what he would happily pay for, and cooks most of what he writes about.",
        location="Lima",
    ),
)

# In the order the tags have always been created, so their ids and slugs stay as they were.
TOPICS: tuple[Topic, ...] = (
    Topic(
        "Technology",
        "How the tools we use every day work, fail and get fixed: software, gadgets, the web and the people who build them.",
        desk="Grace Hopper",
    ),
    Topic(
        "Science",
        "Research explained without the hype: what was found, how it was measured, and what is still uncertain.",
        desk="Alan Turing",
    ),
    Topic(
        "Culture",
        "The shared life of towns and cities: libraries, museums, choirs, local news and the places where people meet.",
        desk="Ada Lovelace",
    ),
    Topic(
        "Politics",
        "Local government and public decisions, from council budgets to planning rules, explained for the people they affect.",
        desk="Ada Lovelace",
    ),
    Topic(
        "Design",
        "Maps, signs, forms, type and interfaces: the design of the things we read and use without noticing.",
        desk="Grace Hopper",
    ),
    Topic(
        "Travel",
        "Slower journeys by train, bus and on foot, and how to see more of a place by rushing less.",
        desk="Margaret Hamilton",
    ),
    Topic(
        "Food",
        "Cooking at home, eating with the seasons and wasting less, with recipes tested in ordinary kitchens.",
        desk="Linus Torvalds",
    ),
    Topic(
        "Climate",
        "A warming world measured and explained, and the practical changes homes, streets and towns are making.",
        desk="Margaret Hamilton",
    ),
    Topic(
        "Health",
        "Everyday health with the evidence attached: sleep, movement, food and the habits that make a difference.",
        desk="Alan Turing",
    ),
    Topic(
        "Books",
        "Reading groups, libraries, bookshops, and the books that change how we see a place or a problem.",
        desk="Ada Lovelace",
    ),
    Topic(
        "Film",
        "Cinema from the seat in the dark: how films are made, how we watch them, and the screens that keep going.",
        desk="Linus Torvalds",
    ),
    Topic(
        "Music",
        "Listening closely, playing badly and singing together: music as something people do, not only something they stream.",
        desk="Linus Torvalds",
    ),
)
_TOPICS_BY_NAME = {topic.name: topic for topic in TOPICS}


# Oldest first; they take every third slot of the published timeline (see `_timeline`).
LONG_READS: tuple[Article, ...] = (
    Article(
        title="Keyset pagination, explained with a bookshelf",
        tags=("Technology", "Design"),
        authors=("Grace Hopper",),
        featured=True,
        markdown=_text("""
            Every site with more than a handful of posts has to answer the same question: what comes after the first page? The obvious answer, counting, turns out to be the expensive one, and the reason is easiest to see on a bookshelf.

            ## Counting from the left

            Imagine asking a friend for the books on your shelf from the five hundredth onwards. They have to start at the left end and count five hundred spines before handing you anything. That is what `OFFSET 500` asks of a database: read and throw away five hundred rows, every time. Worse, if someone slides a new book onto the shelf while you are reading, everything shifts along by one, and the next page starts with a book you have already seen.

            ## Starting from a bookmark

            Keyset pagination replaces the count with a bookmark. Instead of "skip five hundred", the request says "start after this book". Because the shelf is sorted, your friend can walk straight to the bookmark and carry on. In SQL the bookmark is the sort key of the last row you saw:

            ```sql
            SELECT id, title, published_at
            FROM posts
            WHERE (published_at, id) < (:last_published_at, :last_id)
            ORDER BY published_at DESC, id DESC
            LIMIT 20;
            ```

            The `id` is there to break ties: two posts published in the same second still have a strict order, so nothing is skipped and nothing repeats.

            ## What the cursor hides

            An API should not ask its clients to build that `WHERE` clause themselves. The API behind this site wraps the bookmark in an opaque cursor, a short string the client passes back as `after`. Opaque matters: it lets the server change what is inside without breaking anybody's frontend.

            There are trade-offs, and they are worth stating plainly:

            - You cannot jump straight to page 37. A bookmark only knows its neighbours.
            - The sort order must be backed by an index, or the walk to the bookmark is slow again.
            - A total count is still a separate query, and often the most expensive one on the page.

            > A bookmark knows where you stopped; an offset only knows how far you counted.

            For an archive that readers browse newest first, those trade-offs are easy to accept. Most people never go past the third page, and the ones who do deserve page fifty to be as quick as page one.
            """),
    ),
    Article(
        title="Counting birds by ear: how volunteer science works",
        tags=("Science", "Climate", "Culture"),
        authors=("Alan Turing",),
        markdown=_text("""
            Before sunrise on a Saturday in May, a dozen people stand very still at the edge of a wet meadow, notebooks open, saying nothing. They are not watching birds so much as listening to them. By seven o'clock they will have written down every song and call they could put a name to, and by the end of the month their tallies will join thousands of others in a survey that professional researchers could never afford to run alone.

            ## Why ears beat eyes

            In dense hedgerows and reed beds most birds are heard long before they are seen, if they are seen at all. Experienced listeners can separate a dozen species singing at once, the way a musician picks out the second violin. Surveys built on sound are therefore more complete than surveys built on sightings, especially for small, shy species.

            ## Making amateur data count

            Volunteer records are only useful if they are collected the same way every time. The surveys that work tend to share a few habits:

            1. The same route, walked at the same pace, at the same time after dawn.
            2. A fixed listening period at each stop, usually a few minutes.
            3. A note of everything, including "nothing heard", because absences are data too.
            4. The weather written down, since wind and rain silence birds and would otherwise look like a decline.

            Some groups now add a phone recording at each stop, so that a doubtful call can be checked later by someone with a better ear.

            ## What the numbers show

            Long runs of these counts are how we know which species are arriving earlier in spring, which are shifting their ranges, and which are quietly thinning out. No single morning proves anything. Twenty years of mornings, collected by people who mostly could not tell you the Latin names, is one of the better instruments we have for watching a climate change.

            > The survey does not need experts. It needs the same people, at the same gate, every year.

            If you want to join one, start with your local wildlife group. Bring a notebook, a warm coat and some patience; the birds will supply the rest.
            """),
    ),
    Article(
        title="The night train is back, and it is slower on purpose",
        tags=("Travel", "Climate", "Politics"),
        authors=("Margaret Hamilton", "Ada Lovelace"),
        featured=True,
        excerpt="Sleeper trains were written off as a relic. Now routes are returning, and the people riding them talk about arithmetic, the climate and, above all, calm.",
        markdown=_text("""
            There is a particular pleasure in falling asleep in one country and waking up in another, and for a couple of decades it looked as if it would disappear. Sleeper services were cut across much of Europe as cheap flights made the overnight journey seem quaint. Now a number of routes have returned, and the people riding them are not only nostalgic.

            ## Time you do not lose

            The case for the night train is arithmetic more than romance. A flight that takes two hours is rarely a two-hour trip once you add the journey to the airport, the security queue and the ride in from the other end. A sleeper that leaves a city centre at nine in the evening and arrives in another at eight the next morning uses hours you would have spent asleep anyway, and it saves a night in a hotel.

            ## Why it is hard to run

            Night trains are awkward businesses. A carriage that sleeps thirty people takes up as much track as one that seats eighty, and it makes one trip a day instead of several. Crossing borders means agreeing timetables, staffing rules and track charges with more than one rail company, and sometimes with more than one government. The routes that came back usually did so with public support, on the argument that they take short flights off the departure boards.

            What travellers tell us they want is modest:

            - A bed that is long enough, and a door that locks.
            - A reliable hot drink in the morning.
            - Tickets for the whole journey on one website.
            - Honest information when the train is late.

            ## The slower choice

            The climate argument is real: for journeys of a few hundred kilometres, rail produces a small fraction of the emissions of a flight, and our [climate desk](/tag/climate/) has followed the numbers for years. But the riders we met on the platform talked as much about calm. Nobody asks you to take your shoes off. You watch the lights of small towns go by, read a chapter, and sleep.

            > A sleeper does not save time. It spends time you were not using.

            Whether the revival lasts depends on ticket prices and on decisions made in transport ministries. For now, the quickest way to understand the appeal is to book a berth and see what the morning looks like from the window.
            """),
    ),
    Article(
        title="Ten habits of a kitchen that wastes almost nothing",
        tags=("Food", "Climate", "Health"),
        authors=("Linus Torvalds",),
        markdown=_text("""
            Most of the food thrown away at home is not spoiled by accident. It is bought without a plan, stored where nobody sees it, and forgotten. The good news is that the fixes are small and mostly free. These are the habits we collected from cooks who throw out very little.

            ## Before you shop

            1. **Look first, then write the list.** Two minutes with the fridge door open saves buying a third jar of mustard.
            2. **Plan three dinners, not seven.** Plans for a whole week collapse by Thursday; three leave room for leftovers and invitations.
            3. **Buy the odd-shaped fruit.** It tastes the same, and it is often cheaper.

            ## At home

            4. **Put new food at the back.** Older things move to the front, where you will reach for them first.
            5. **Keep a "use soon" shelf.** One visible place for anything that needs eating in the next two days.
            6. **Freeze bread in slices.** Toast it straight from frozen and nothing goes stale.
            7. **Learn what the dates mean.** A "best before" date is about quality; a "use by" date is about safety. Treat them differently.

            ## When you cook

            8. **Cook once, eat twice.** A pot of beans or grains becomes a salad, a soup and a filling over three days.
            9. **Save the trimmings.** Onion skins, herb stalks and vegetable ends make a stock that costs nothing.
            10. **Have one "clear the fridge" meal a week.** Fried rice, a frittata, a big soup: dishes that welcome odds and ends.

            ## Why it matters

            Food that is thrown away carries all the water, land and energy it took to grow, move and chill it. Cutting waste at home is one of the few climate actions that also saves money every week, and it tends to make people eat more vegetables, because the vegetables are the things that used to go limp in the drawer.

            > The cheapest ingredient is the one you already bought.

            None of this needs willpower so much as a routine. Pick two habits, keep them for a month, then add another.
            """),
    ),
    Article(
        title="Why the best interfaces still borrow from paper",
        tags=("Design", "Technology", "Culture"),
        authors=("Grace Hopper",),
        markdown=_text("""
            Open almost any well-loved app and you will find a sheet of paper hiding in it. Cards that lift off the page, text set in comfortable columns, margins that leave room to breathe: screen design has spent decades relearning what printers already knew.

            ## What paper got right

            Print designers worked under constraints that turned out to be about people rather than ink. A line of roughly sixty to seventy-five characters is easy to follow from its end back to the start of the next. Generous space between paragraphs tells the eye where to rest. A clear hierarchy of headings lets a reader skim first and read second. None of these rules depends on the medium; they depend on how eyes and attention work.

            ## Where screens differ

            Screens add things paper never had, and each one is a temptation:

            - **Motion**, which draws the eye whether or not the content deserves it.
            - **Endless length**, which removes the natural pause at the bottom of a page.
            - **Interruptions**, from notifications to banners that slide in mid-sentence.

            The interfaces that feel calm use these sparingly. They animate to explain a change, not to decorate it, and they give long pieces an end you can see coming.

            ## A small experiment

            Try setting your own writing the way a book would. A few lines of CSS go a long way:

            ```css
            article {
              max-width: 68ch;
              margin-inline: auto;
              line-height: 1.6;
              font-size: clamp(1rem, 0.9rem + 0.4vw, 1.25rem);
            }

            article h2 {
              margin-block: 2em 0.5em;
            }
            ```

            The `ch` unit ties the width of the column to the width of a character, so the measure stays readable whatever typeface you choose.

            > You notice typesetting only on the day it fails you.

            Borrowing from paper is not nostalgia. It is a recognition that reading is an old skill, and that the best thing a new medium can do is get out of its way.
            """),
    ),
    Article(
        title="How a town library became the busiest room on the high street",
        tags=("Books", "Culture", "Politics"),
        authors=("Ada Lovelace",),
        featured=True,
        markdown=_text("""
            In a market town that had lost its bank, two of its pubs and most of its clothes shops, the library was expected to be next. Instead it now has the longest opening hours on the high street, and on a wet Tuesday afternoon it is hard to find a seat.

            ## More than lending

            The books are still there, and still borrowed. But the librarians we spoke to describe a building that has quietly taken on jobs other institutions dropped. People come to print a form, to use a computer for a job application, to get help with an online account, or simply to sit somewhere warm without buying anything. Parents bring toddlers for the rhyme sessions; teenagers come after school because it is the only quiet room they have.

            A typical week now includes:

            - A homework club with volunteer tutors.
            - A repair café on the first Saturday of the month.
            - Digital help sessions, mostly about banking and benefits.
            - Two reading groups, one of which has met for eleven years.

            ## Who pays

            None of this is free to provide. Libraries are funded largely by local councils, whose budgets have been squeezed for years, and every extra service competes with roads, care and bin collections. The libraries that thrive tend to have found partners: a college that runs classes there, a health service that books a room for clinics, a friends' group that raises money for what the budget will not cover.

            ## The argument for the building

            It is tempting to treat a library as a collection that could move online. The people in this one would disagree. What they value is the room: a public space, open to anyone, where nobody asks what you are there to buy.

            > It is the last place in town where you can stay all day and nobody expects you to spend a penny.

            That is a hard thing to put in a spreadsheet, and an easy thing to lose. Councils deciding what to cut might start by visiting on a wet Tuesday.
            """),
    ),
    Article(
        title="Listening to a whole album in one sitting, again",
        tags=("Music", "Culture", "Technology"),
        authors=("Linus Torvalds",),
        markdown=_text("""
            For a month I tried an old-fashioned rule: if I put on an album, I listened to all of it, in order, without skipping and without doing anything else. It was harder than it sounds and better than I expected.

            ## The trouble with shuffle

            Streaming made almost every recorded song available at once, which is a wonder. It also made it easy to treat music as background, something to fill the silence while you do another thing. Playlists assembled by software are good at keeping you listening; they are less good at helping you hear anything in particular.

            An album, by contrast, is an argument made over forty minutes. Artists choose what opens it, what sits in the middle and what it ends on. The quiet track after the loud one is there on purpose. Shuffle throws that away.

            ## How I did it

            The rules were simple, and I would suggest them to anyone who wants to try:

            1. Choose the album before you press play, not while it is playing.
            2. Sit down. Headphones or a decent speaker, phone face down.
            3. No skipping, not even the track you think you dislike.
            4. Write one sentence afterwards about what stayed with you.

            ## What changed

            The track I disliked was usually the one I came back to later. Songs I knew from playlists sounded different in their original place, often better, because the song before had prepared the ground. And I remembered more: a month on, I can still tell you the running order of records I had only ever half heard.

            > A playlist asks what you like. An album asks you to pay attention.

            There is nothing wrong with background music. But once in a while it is worth giving a record your full attention, the way you would a film, and seeing what it does with forty minutes of your evening.
            """),
    ),
    Article(
        title="The long take: why some films refuse to cut",
        tags=("Film", "Culture", "Design"),
        authors=("Linus Torvalds",),
        excerpt="Most films cut every few seconds. A few hold one shot for minutes, and audiences lean forward without knowing why. On the craft, and the risk, of the long take.",
        markdown=_text("""
            Most films cut every few seconds. A few stay with one shot for minutes at a time, and when they do, audiences lean forward without quite knowing why.

            ## What a cut does

            Editing is how a film tells you where to look. Each cut is a small instruction: now this face, now that door, now the clock. It is efficient and usually invisible, and it means the film has done some of your looking for you.

            A long take hands that job back. The camera moves, or simply waits, and you decide what to watch inside the frame. Time passes at the speed it passes in life, so a conversation that would be trimmed to its best lines is allowed its pauses and false starts.

            ## Why it is difficult

            Planning a shot that lasts several minutes is closer to staging a play than to ordinary filming. Everything has to go right at once:

            - Actors must hit their marks and their lines in one continuous run.
            - The camera's path has to be rehearsed around furniture, doors and crew.
            - The lighting must work in every position the camera passes through.
            - One mistake near the end means starting again from the beginning.

            That difficulty is part of the appeal. Viewers sense, even without thinking about it, that what they are watching happened in one piece.

            ## When it works, and when it does not

            The long take is at its best when tension comes from waiting: a scene in which we know something the characters do not, and the film refuses to cut away and let us off. It is at its worst when it becomes a stunt, a technical feat the story never asked for.

            > A cut tells you what matters. A long take trusts you to notice.

            Next time you watch a film, try counting the seconds between cuts. You will start to feel the rhythm of the edit, and the moments when a director decides to stop it.
            """),
    ),
    Article(
        title="Walking is the most underrated health habit there is",
        tags=("Health", "Science", "Travel"),
        authors=("Alan Turing",),
        featured=True,
        markdown=_text("""
            It needs no subscription, no charger and no app, and it is one of the best-studied habits in medicine. Walking rarely makes headlines because there is nothing to sell, which is exactly why it deserves one.

            ## What the research says

            Regular moderate activity is consistently linked with better heart health, steadier mood and better sleep, and for most adults walking is the easiest way to get it. Health services commonly suggest around 150 minutes of moderate activity a week, which works out at a little over twenty minutes a day. A brisk walk counts: the usual test is that you can still talk, but not sing.

            None of this requires special kit or a stopwatch. What matters most is doing it regularly, and the easiest way to do something regularly is to attach it to a thing you already do.

            ## Making it stick

            The walkers we spoke to had mostly stopped thinking of it as exercise. Their habits were practical:

            - Getting off the bus one stop early, in both directions.
            - Taking phone calls on foot.
            - A short loop after lunch, before the afternoon slump.
            - Walking to the shop instead of adding one more item to a delivery.

            ## Walking as travel

            There is another reason to walk, which has nothing to do with health. Cities look different at walking pace. You notice the bakery that opens at six, the steps that cut between two streets, the mural on the back of a garage. Several of the people we met had started taking walking holidays after discovering their own neighbourhood this way, following old paths between villages with a small bag and no fixed plan. Our [travel desk](/tag/travel/) has more on slow journeys.

            > The best exercise is the one you do not have to talk yourself into.

            If you are starting from very little, start small: ten minutes, most days, at a pace that feels slightly purposeful. Anyone with a health condition should check with their doctor first. For everyone else, the door is right there.
            """),
    ),
    Article(
        title="Reading a council budget without a finance degree",
        tags=("Politics", "Technology"),
        authors=("Ada Lovelace", "Grace Hopper"),
        markdown=_text("""
            Every year your local council publishes a budget, and every year almost nobody reads it. That is a pity, because it is the clearest statement of what the place you live in actually values, and it is less intimidating than it looks.

            ## Start with the biggest lines

            Budgets are long because they list everything, but most of the money goes to a handful of services. For a typical council the largest lines are care for adults, services for children, waste collection, and roads and transport. Find those first. Everything else matters, but it is small by comparison, and knowing the scale stops a row about a new bench from feeling like a row about the whole budget.

            ## Know the two kinds of money

            Councils keep two pots apart. **Revenue** money pays for running things: salaries, contracts, energy bills. **Capital** money pays for things that last: a school roof, a bridge, a bus lane. A council can borrow for capital projects, but it generally has to balance its revenue budget each year, which is why a shortfall there leads to cuts rather than loans.

            | Question | Where to look |
            | --- | --- |
            | What does it cost to run? | The revenue budget |
            | What is being built? | The capital programme |
            | How much is held back? | The reserves |

            ## Look at the spending itself

            Many councils also publish every payment above a threshold as a spreadsheet. A few lines of code are enough to see where the money went:

            ```python
            import csv
            from collections import Counter

            totals: Counter[str] = Counter()
            with open("spending.csv", newline="") as file:
                for row in csv.DictReader(file):
                    totals[row["supplier"]] += float(row["amount"])

            for supplier, amount in totals.most_common(10):
                print(f"{supplier:40} {amount:>14,.2f}")
            ```

            Column names differ from council to council, so open the file first and adjust them.

            > A budget is a list of promises with prices attached.

            You do not need to agree with every line to find the exercise worthwhile. Reading the budget turns vague arguments about "the council" into specific questions you can ask at a meeting, or put to a candidate at the next election.
            """),
    ),
    Article(
        title="How to write an error message people can use",
        tags=("Technology", "Design"),
        authors=("Grace Hopper",),
        markdown=_text("""
            An error message is read at the worst possible moment: the reader is stuck, usually in a hurry, and often a little annoyed. That makes it one of the most important pieces of writing in any product, and one of the most neglected.

            ## Say what happened, then what to do

            A useful message answers two questions in plain words. What went wrong? What can I do about it? Compare two versions of the same failure:

            ```text
            Error 4012: request could not be processed.

            We couldn't save your post because the title is empty.
            Add a title and try again.
            ```

            The first is accurate and useless. The second tells the reader where to look and what will fix it.

            ## A short checklist

            - **Point at the field.** If one input is wrong, say which, and show the message next to it.
            - **Use the reader's words.** "Title", not "post.title constraint".
            - **Do not blame.** "That password is too short" beats "You entered an invalid password".
            - **Keep the code, but second.** A short code helps support staff and searches; it should follow the sentence, not replace it.
            - **Never lose work.** If saving failed, keep what the person typed.

            ## Errors for machines

            APIs have readers too, and they are programs. A good API error has a stable code that software can branch on, a path that says which part of the request was wrong, and a message a developer can read in a log. The API behind this site returns each problem with the input field it belongs to, so a form can show the message in the right place without guessing.

            > The best error message is the one that makes the next attempt succeed.

            Writing these well is not glamorous work. But people remember the product that helped them out of a jam, and they remember, with feeling, the one that told them only that something had gone wrong.
            """),
    ),
    Article(
        title="The sea keeps a record of our summers",
        tags=("Climate", "Science"),
        authors=("Margaret Hamilton", "Alan Turing"),
        excerpt="The air forgets a hot week quickly. The ocean keeps a running total, and scientists read it with floats, ships and satellites.",
        markdown=_text("""
            Stand on a beach in late summer and the water can feel like the warmest it has ever been. Sometimes it is. But the more important story is the one you cannot feel: the slow, steady warming of the ocean as a whole, which scientists measure with floats, ships and satellites.

            ## Where the heat goes

            Most of the extra heat trapped by greenhouse gases does not stay in the air. The great majority of it ends up in the ocean, which can absorb enormous amounts of energy while its temperature changes only slightly. That makes the sea a kind of memory. The air forgets a hot week quickly; the ocean keeps a running total.

            ## How it is measured

            Taking the temperature of an ocean is harder than it sounds, because the water is deep and always moving. Modern records rely on several tools at once:

            - **Robotic floats** that sink to depth, drift, and rise again, recording temperature and saltiness on the way up.
            - **Satellites** that measure the temperature of the surface and the height of the sea, which rises slightly as water warms and expands.
            - **Ships and moorings** that keep long records in fixed places and check the other instruments.

            ## Why it matters on land

            Warmer seas feed heavier rain, because warmer air can hold more moisture. They stress coral reefs and shift where fish can live, which matters to every harbour town that depends on them. And spells of unusually hot water, called marine heatwaves, can last for weeks or months, long after a heatwave on land has broken.

            > The air has a short memory. The sea remembers every summer.

            None of this is visible from a deckchair. But the next time a forecast mentions unusually warm water offshore, remember that the number is not only about swimming. It is a reading from the largest thermometer on the planet.
            """),
    ),
    Article(
        title="Bread, time and the slow science of dough",
        tags=("Food", "Science", "Culture"),
        authors=("Linus Torvalds", "Alan Turing"),
        featured=True,
        markdown=_text("""
            Good bread is mostly patience. Flour, water, salt and yeast are the whole recipe; what separates a dense loaf from an open, glossy one is what happens in the hours in between, and most of it is chemistry you can watch.

            ## What the yeast is doing

            Yeast feeds on sugars in the flour and gives off carbon dioxide and alcohol. The gas is caught in gluten, the stretchy network of proteins that forms when wheat flour meets water, and the dough rises. Slow that process down, with less yeast or a cooler room, and other things have time to happen: enzymes turn starch into sugars, and bacteria (in a sourdough especially) produce acids that bring flavour.

            ## A slower loaf

            This is a forgiving overnight method for one loaf:

            1. Mix 500 g strong white flour, 350 g water, 10 g salt and 2 g dried yeast until no dry flour remains.
            2. Cover and leave for an hour, then fold the dough over itself four times.
            3. Leave it somewhere cool for twelve to sixteen hours, until it has roughly doubled.
            4. Shape it gently, let it rest for an hour, and bake it in a very hot covered pot for about 40 minutes, taking the lid off for the last 15.

            Two grams of yeast is not a misprint. A tiny amount, given time, does the work of a whole packet in a hurry, and the flavour is deeper.

            ## Reading the dough

            Recipes give times, but kitchens differ, so learn the signs instead:

            - A dough that is ready has grown noticeably and feels airy and soft.
            - A gentle poke should spring back slowly: not instantly, and not never.
            - A collapsed, sharply sour dough has gone too far; bake it anyway as flatbread.

            > Yeast does the work. Your job is mostly to wait.

            Bread was made this way for centuries in kitchens with no thermometers and no scales. The science explains why it works; the tradition reminds us that it was never complicated.
            """),
    ),
    Article(
        title="Reading a city before you visit it",
        tags=("Books", "Travel", "Culture"),
        authors=("Ada Lovelace", "Margaret Hamilton"),
        excerpt="Guidebooks tell you where to go. Novels tell you what it feels like to be there. How to choose a book for a trip, and what it changes when you arrive.",
        markdown=_text("""
            Guidebooks tell you where to go. Novels tell you what it feels like to be there, which is often more useful and always more fun. Before a trip we try to read at least one book set in the place we are visiting, and it has changed how we travel.

            ## What fiction notices

            A good novel records small things a guidebook has no room for: how people greet each other, what they argue about at dinner, which streets feel different after dark, what February does to everyone's mood. Even a book set decades ago shows you the bones of a place, the neighbourhoods and rivalries that still shape it.

            ## How to choose

            You do not need a critic's reading list. A few simple rules have served us well:

            - **Ask a local bookshop.** Write before you go; most booksellers love the question.
            - **Prefer writers from the place.** Visitors notice the sights; residents notice the people.
            - **Mix the old and the new.** One book from a generation ago, one from the last few years.
            - **Try short stories.** A collection can show more of a city than one long plot.

            ## Reading on the road

            Bring the book with you. There is a particular pleasure in reading a scene on a bench in the square where it happens, or recognising a café from a chapter you read at home. Keep a note of the places a book mentions and visit one or two, not as a pilgrimage, but as a way of seeing the city through somebody else's eyes.

            ## Bringing it home

            The habit works in reverse as well. After a trip, a novel from the place you visited is a way to stay there a little longer, and you will often understand it better for having walked its streets.

            > A map shows you the streets. A novel tells you who lives on them.

            Next time you book a ticket, reserve a book at the library too. It is the cheapest upgrade in travel.
            """),
    ),
    Article(
        title="In praise of the quiet film score",
        tags=("Film", "Music", "Culture"),
        authors=("Linus Torvalds",),
        markdown=_text("""
            Some of the most memorable music in cinema is barely there. A few held notes under a conversation, a single piano line over a long drive, a silence where you expected an orchestra. The quiet score is having a moment, and it is worth asking why it works.

            ## Music that does not tell you what to feel

            A loud score is a set of instructions. Swelling strings say *be moved*; pounding drums say *be excited*. It can be thrilling, and it can also feel like being nudged in the ribs. A quiet score leaves room. It sets a mood and then steps back, so the performances and the pictures carry the scene.

            ## The craft of less

            Writing very little music is not the same as writing easy music. Composers who work this way return to a few choices:

            - **A small palette.** One or two instruments, used consistently, so that each return means something.
            - **Texture over melody.** Sustained sounds and slowly shifting harmonies rather than tunes you hum on the way out.
            - **Knowing when to stop.** Leaving a scene unscored is as deliberate as any cue.

            ## Silence as a sound

            Silence in a cinema is never empty. You hear the room, the audience breathing, the small sounds of the film itself: footsteps, wind, a kettle. When a film has been quiet for a while, a single note lands with the weight of a full orchestra, because you have been listening for it.

            ## How to listen

            Next time you watch a film with a spare score, pay attention to the moments just before the music enters. Ask what changed on screen to earn it. Often it is a look, a decision, a door opening. The music does not announce the moment; it confirms it.

            > The quietest cue in a film is often the one you remember on the way home.

            Big scores will never go away, and they should not. But there is something generous about music that trusts its audience, and a cinema full of people holding their breath is its own kind of soundtrack.
            """),
    ),
    Article(
        title="What a month of regular bedtimes did for my mornings",
        tags=("Health", "Science", "Culture"),
        authors=("Alan Turing",),
        excerpt="One month, one wake-up time, weekends included. A sleep experiment with a diary, a slump that disappeared, and what the body clock has to do with it.",
        markdown=_text("""
            I am not a morning person, or at least I was sure I was not. Then, for one month, I went to bed and got up at the same time every day, weekends included. This is what happened, and what the science says about why.

            ## The experiment

            The rules were borrowed from standard sleep advice, which is remarkably consistent:

            1. The same wake-up time every day, even after a late night.
            2. Lights down and screens away half an hour before bed.
            3. No coffee after lunch.
            4. Daylight early, even if only a ten-minute walk.

            I kept a short diary: roughly when I fell asleep, and how I felt at ten in the morning on a scale of one to five.

            ## Week by week

            The first week was miserable. Getting up at the same time on a Saturday felt like a punishment. In the second week I was getting tired at a sensible hour without trying. By the third, the ten o'clock scores had crept up from mostly twos to mostly fours, and my afternoons had lost the slump that used to need a biscuit.

            ## Why it works

            Our bodies run on an internal clock of roughly twenty-four hours, and light is the main signal that keeps it in time. Morning daylight tells the clock the day has begun; bright screens late at night send a confusing signal the other way. A regular wake-up time gives the clock a fixed point to set itself by. Sleeping in at weekends moves that point, a little like flying across a couple of time zones every Saturday and back every Monday.

            > The alarm clock is not the enemy. The irregular one is.

            ## What I kept

            A month on, I still get up at the same time most days. I have not converted to dawn runs, and I still enjoy a late dinner with friends. But the difference on an ordinary Tuesday is real. If you sleep badly for weeks on end, it is worth talking to a doctor; for the rest of us, consistency is a good place to start.
            """),
    ),
    Article(
        title="A weather station on the windowsill, in a few lines of Python",
        tags=("Technology", "Science", "Climate"),
        authors=("Grace Hopper", "Margaret Hamilton"),
        markdown=_text("""
            A windowsill weather station is one of the most satisfying small projects in hobby electronics. It costs about as much as a couple of paperbacks, it teaches you a surprising amount about measurement, and after a few months it gives you a record of your own street's weather that no forecast can match.

            ## What you need

            - A small single-board computer, or any old laptop that can stay switched on.
            - A combined temperature, humidity and pressure sensor on a small breakout board.
            - A few jumper wires, and a shelter that lets air in but keeps rain and sun out.

            The shelter matters more than the electronics. A sensor in direct sunlight measures the sun, not the air. Official stations use ventilated white screens for this reason; a homemade one from stacked plant-pot saucers works well.

            ## Logging readings

            Most sensor libraries hand you readings as plain numbers you can write straight to a file. The loop below appends one row every five minutes, with a UTC timestamp, so the clocks changing in spring and autumn never confuse the record:

            ```python
            import csv
            import time
            from datetime import UTC, datetime

            from sensor import read  # your sensor library's read function


            def log_forever(path: str, every_seconds: int = 300) -> None:
                with open(path, "a", newline="") as file:
                    writer = csv.writer(file)
                    while True:
                        reading = read()
                        writer.writerow([
                            datetime.now(UTC).isoformat(timespec="seconds"),
                            f"{reading.temperature:.1f}",
                            f"{reading.humidity:.0f}",
                            f"{reading.pressure:.1f}",
                        ])
                        file.flush()
                        time.sleep(every_seconds)
            ```

            Replace `sensor` with the library for your board; the rest stays the same. A CSV file is deliberately boring: every spreadsheet and plotting tool reads it, and it will still open in twenty years.

            ## What the numbers teach

            After a week you start to notice things. Pressure falls steadily before a wet day. Humidity peaks around dawn. Compare your readings with an official station nearby and you will learn about error too: yours will differ, and working out why (sun, shelter, a warm wall) is the real lesson in measurement.

            > Every instrument measures something. The trick is knowing what.

            Keep the station running for a year and you will have a small climate record of your own, one that belongs to your street rather than to an airport twenty miles away.
            """),
    ),
    Article(
        title="What a good transit map leaves out",
        tags=("Design", "Travel", "Politics"),
        authors=("Margaret Hamilton", "Grace Hopper"),
        featured=True,
        markdown=_text("""
            The best-loved transit maps are wildly inaccurate, and that is why they work. Distances are squashed, curves are straightened and whole districts vanish. What remains is the only thing a passenger needs underground: which line, which direction, and where to change.

            ## Diagrams, not maps

            A street map answers the question *where is this?* A transit diagram answers a different one: *how do I get there?* Once designers accepted that, they were free to throw geography away. Lines run horizontally, vertically or at forty-five degrees. Stations sit at even intervals, even when the real ones are minutes apart in the centre and miles apart at the edges.

            ## The rules that make it readable

            Most good diagrams follow a short list of rules, whether or not anybody wrote them down:

            - **A few angles only.** Fewer directions mean less work for the eye.
            - **One colour per line**, chosen so lines stay distinct for people with common kinds of colour blindness.
            - **Interchanges that stand out**, because changing trains is where people get lost.
            - **Labels that never cross a line.**

            ## What gets left out, and who decides

            Leaving things out is a choice with consequences. A station drawn near the centre feels close, and people will travel to it; a neighbourhood pushed to the edge of the diagram feels remote, even when it is not. When a city adds a line, the argument about where it appears on the map can be as heated as the argument about where it goes. The map is part of the service, and deciding what goes on it is part of running the city.

            > A transit map is a promise about what is easy.

            ## Make your own

            Try sketching the trips you make every week as a diagram: your stops, your changes, nothing else. Most people discover they live in a much simpler city than the one on the street map, and a few discover a route they had never thought of.
            """),
    ),
)


# Three per desk, each desk's in the order they run; `_timeline` deals them out in turn.
REPORTS: tuple[Report, ...] = (
    Report(
        title="The case for repairing your laptop instead of replacing it",
        tags=("Technology", "Climate"),
        lead="Laptops are built to last longer than most of us keep them. The usual reasons for replacing one, a tired battery, a full disk, a loose hinge, are often repairs of an hour or less, and more independent shops will now do them while you wait.",
        heading="What is usually worth fixing",
        detail="The parts that wear out first are also the cheapest to replace. Batteries lose capacity with every charge, and a new one restores most of the original running time. A slow machine is more often short of memory or storage than of processing power, and on many models both can be upgraded.",
        points=(
            "A new battery, once the old one no longer lasts a morning.",
            "A larger solid-state drive, which often makes an old machine feel new.",
            "A replacement keyboard or hinge, before the damage spreads.",
        ),
        quote="The greenest laptop is usually the one you already own.",
    ),
    Report(
        title="Passkeys, explained without the jargon",
        tags=("Technology", "Design"),
        lead="More and more sites offer to replace your password with a passkey. The name suggests a new kind of password, but it works quite differently, and for most people it is both safer and easier.",
        heading="How a passkey works",
        detail="When you create a passkey, your device makes a pair of linked keys. The site keeps one, which is useless on its own; the other never leaves your phone or computer, and is unlocked with your fingerprint, face or screen lock. Because the pair belongs to one website, a convincing fake site cannot use it.",
        points=(
            "There is nothing to remember and nothing to type.",
            "A stolen list of the keys a site keeps is of no use to an attacker.",
            "Keep a second way in, such as another device, in case you lose the first.",
        ),
    ),
    Report(
        title="The quiet comeback of the feed reader",
        tags=("Technology", "Culture"),
        lead="Feed readers were supposed to have died years ago. Instead they have found a new audience among people tired of timelines that decide what they see. A feed reader shows every new post from the sites you chose, in order, and nothing else.",
        heading="Why readers are returning",
        detail="The appeal is control. There is no ranking, no suggested content and no advertising between posts. Most blogs, news sites and podcasts still publish a feed, often without mentioning it, and a reader can usually find it from the site's address alone.",
        points=(
            "Start with five sites you actually read, not fifty.",
            "Sort by mood rather than subject: read now, read at the weekend.",
            "Unsubscribe freely; an empty reader is a finished one.",
        ),
        quote="A feed reader is a newspaper you edit yourself.",
    ),
    Report(
        title="Why the night sky is darker in some villages than others",
        tags=("Science", "Travel", "Climate"),
        lead="On a clear night far from town you can see a few thousand stars with the naked eye. From most city streets you can see a few dozen. The difference is not the sky but the light we send up into it, and some villages have started to take the darkness back.",
        heading="What makes a dark sky",
        detail="Most wasted light comes from fittings that shine sideways or upwards instead of down at the ground. Shielded lamps, warmer colours and dimming late at night cut the glow without making streets less safe to walk, and the savings on energy often pay for the change.",
        points=(
            "Shielded street lamps that light only the pavement.",
            "Warmer, dimmer light after midnight, when streets are empty.",
            "Outdoor lights at home on a timer or a motion sensor.",
        ),
        quote="The stars never left. We just outshone them.",
    ),
    Report(
        title="What a kitchen scale can teach you about measurement",
        tags=("Science", "Food"),
        lead="Put the same bag of flour on a kitchen scale five times and you may get five slightly different numbers. That is not a broken scale. It is a small lesson in how every measurement works, from a bakery to a physics laboratory.",
        heading="Precise is not the same as accurate",
        detail="Scientists separate two ideas that everyday speech blurs. A precise instrument gives the same answer each time; an accurate one gives the right answer on average. A scale can be precise and wrong, if it was never set to zero, or accurate but jittery, if the worktop under it wobbles.",
        points=(
            "Press the zero button with the empty bowl already on the scale.",
            "Check it now and then against something of known weight, such as an unopened bag of sugar.",
            "For small amounts like yeast or salt, a scale that reads to a tenth of a gram is worth having.",
        ),
    ),
    Report(
        title="How scientists date a tree without cutting it down",
        tags=("Science", "Climate"),
        lead="Counting the rings of a felled tree is something many of us did as children. Researchers who study old trees rarely fell them. They use a hollow drill about as thick as a pencil to take a thin core from the bark to the centre, and the tree carries on growing.",
        heading="What the rings record",
        detail="Each ring is one year's growth, and its width depends on that year's conditions: wide in good growing years, narrow in droughts or cold summers. Matching the patterns of wide and narrow rings between trees, and between living trees and old timbers, builds records that reach back centuries.",
        points=(
            "Dating the beams of old buildings, sometimes to the year the tree was felled.",
            "Reconstructing rainfall and temperature from before there were instruments.",
            "Spotting the years of past fires, floods and insect outbreaks.",
        ),
        quote="A forest is an archive that keeps adding pages.",
    ),
    Report(
        title="The return of the neighbourhood choir",
        tags=("Culture", "Music", "Health"),
        lead="On Thursday evenings a church hall on our street fills with forty people who, by their own account, cannot really sing. They come anyway. Choirs that welcome anyone, with no auditions and no need to read music, have been springing up in towns all over the country.",
        heading="Why people join",
        detail="Ask members why they come and few mention music first. They talk about the company, about having somewhere to be on a winter evening, about the lift that comes from breathing deeply and making a loud noise with other people. Songs are learned by ear, a line at a time, and nobody is singled out.",
        points=(
            "No auditions, and no expectation that anyone reads music.",
            "A small subscription, with a free place for anyone who cannot pay.",
            "One concert a year, usually for a local charity.",
        ),
        quote="None of us can sing alone. Together, it turns out, we can.",
    ),
    Report(
        title="What a town loses when its local paper closes",
        tags=("Culture", "Politics"),
        lead="When a local paper closes, people first miss the obvious things: the planning notices, the match reports, the announcements of births and deaths. The losses that come later are harder to see. Nobody is at the council meeting taking notes, and fewer people know what was decided there.",
        heading="What fills the gap",
        detail="In some towns the gap is filled by volunteers, a community website or a newsletter run by a retired reporter. In others it is filled by rumour. Some researchers have linked the loss of local reporting with lower turnout in local elections, though effects like these are hard to measure precisely.",
        points=(
            "Go to one council meeting a year and write down what you hear.",
            "Pay for whatever local news you still have, even if you read it rarely.",
            "Ask your library whether it keeps an archive of the old paper.",
        ),
    ),
    Report(
        title="A museum that lets you touch the collection",
        tags=("Culture", "Design"),
        lead="Most museums keep their collections behind glass for good reasons. A growing number also keep a handling collection: objects chosen to be picked up, turned over and passed around. For visitors with poor sight, and for children who learn with their hands, it changes what a visit can be.",
        heading="How handling tables work",
        detail="The objects are usually replicas, duplicates or pieces too common to be precious: a Roman roof tile, an old flat iron, a fossil that exists in thousands. Staff or volunteers stay at the table, explain what each thing is and make sure nothing wanders off. Designers now plan these tables into new galleries from the start.",
        points=(
            "Ask at the front desk; handling sessions are often not advertised.",
            "Weekday mornings are quieter, with more time to talk.",
            "Many museums lend handling boxes to schools.",
        ),
        quote="You understand a tool differently once you have held it.",
    ),
    Report(
        title="How to make a planning objection that gets heard",
        tags=("Politics", "Design"),
        lead="Planning applications go up on lamp posts in small print and are decided, weeks later, in meetings most of us never attend. Yet planning is one of the few parts of government that formally asks for public comment, and a well-made objection, or letter of support, does get read.",
        heading="What counts, and what does not",
        detail="Planning officers can only weigh what the rules call material considerations: things like traffic, overlooking, noise and the effect on the character of the street. Objections about a neighbour's motives, or fears about house prices, are set aside however strongly they are felt.",
        points=(
            "Name the specific harm and where it falls, such as lost light to a named room.",
            "Quote the council's own local plan where you can.",
            "Write in good time; late comments may not be considered.",
        ),
    ),
    Report(
        title="Why so few people vote in local elections, and what helps",
        tags=("Politics", "Culture"),
        lead="National elections bring most voters out. Local ones, which decide the bins, the buses and the libraries, often draw around a third of them. The reasons are mostly dull and practical, which is good news: dull, practical problems can be fixed.",
        heading="What keeps people at home",
        detail="People who skip local elections tend to say the same things: they did not know one was on, did not know who was standing, or did not think the council made much difference. All three are problems of information, and they are worst where local news has thinned out.",
        points=(
            "Clear notices, sent in good time, that say what the council actually controls.",
            "Candidate statements gathered in one place, in plain language.",
            "Polling stations in familiar buildings, near where people shop and work.",
        ),
        quote="Local government is where politics meets your front door.",
    ),
    Report(
        title="Participatory budgeting: when residents spend the money",
        tags=("Politics", "Culture"),
        lead="In a handful of districts, residents do not just comment on how part of the council's budget is spent. They decide. Participatory budgeting sets aside a small pot of money, invites people to propose projects and puts the proposals to a public vote.",
        heading="What gets funded",
        detail="The winning ideas are rarely grand: benches on a steep road, a community fridge, lights for a footpath children use in winter, a repaired sports pavilion. The sums are modest, but people who take part often say they understand the council's harder choices better afterwards.",
        points=(
            "A fixed pot, announced before any ideas are collected.",
            "Proposals checked for cost and legality before the vote.",
            "Results published, with a follow-up when each project is finished.",
        ),
        excerpt="A small pot of council money, ideas from residents and a public vote: how participatory budgeting works, and what people choose to fund.",
    ),
    Report(
        title="The humble signpost, redesigned",
        tags=("Design", "Travel"),
        lead="Few pieces of design are used more and noticed less than a pedestrian signpost. Several towns have replaced a jumble of old fingerposts and tourist signs with one family of maps and markers, and the results show how much a good sign can do.",
        heading="What a good sign says",
        detail="The best new signs answer the walker's real question, which is rarely how far but how long. They give walking times in minutes, a small map turned to match the way you are facing, and a circle showing what is within five or fifteen minutes. Distances that sound daunting turn out to be short walks.",
        points=(
            "Walking times instead of distances.",
            "Maps that turn with the viewer, so up is always ahead.",
            "One typeface and one set of colours across the whole town.",
        ),
        quote="A sign should answer the question you were about to ask.",
    ),
    Report(
        title="Designing forms that do not waste people's time",
        tags=("Design", "Technology"),
        lead="Every form is a small conversation, and many of them are rude. They ask for information they do not need, in an order that makes no sense, and then complain at the end about a mistake made at the beginning. A few habits fix most of it.",
        heading="The habits that help",
        detail="Good forms ask only what they need, and explain why when a question might surprise. They accept answers the way people naturally give them: a phone number with spaces, a postcode in lower case. And they check each field as it is completed, rather than returning a list of errors after the final button.",
        points=(
            "One question per line, in the order a person would expect.",
            "Labels above the fields, never only inside them as placeholder text.",
            "Errors shown beside the field they belong to, in plain words.",
        ),
    ),
    Report(
        title="Why so many new logos look the same",
        tags=("Design", "Culture", "Technology"),
        lead="Line up the logos companies have adopted over the past decade and a pattern appears: simple shapes, flat colour and a plain sans-serif name, with the quirks of the old version smoothed away. Critics call it blanding. Designers tend to call it practical.",
        heading="Small screens, small icons",
        detail="Much of the pressure comes from where logos now live. A mark that must work as a tiny app icon, a profile picture and a notification badge loses its fine detail whatever the designer intends. Flat, simple shapes survive being shrunk; engraved crests and hairline serifs do not.",
        points=(
            "Test a logo at the size of a browser tab before anything else.",
            "Keep one distinctive element, even if the rest is simple.",
            "Let colour do some of the work that detail once did.",
        ),
        quote="A logo has to work at the size of a fingernail now.",
    ),
    Report(
        title="Slow travel: one region, two weeks, no flights",
        tags=("Travel", "Climate", "Food"),
        lead="Instead of five cities in ten days, slow travel suggests one region for two weeks, reached by train and explored by bus, bicycle and on foot. The idea is not new, but more people are trying it, for reasons that range from the climate to plain exhaustion with airports.",
        heading="What changes when you slow down",
        detail="Staying longer in one place means renting a room with a kitchen, shopping at the market and eating what the region grows that season. Day trips replace transfers. People who try it often say they remember more of one slow trip than of several fast ones.",
        points=(
            "Choose a base with good local transport, not the most famous town.",
            "Book the long journeys there and back; leave the middle open.",
            "Learn ten words of the local language, and use them at the market.",
        ),
        quote="You do not see more by moving faster. You see less, more often.",
    ),
    Report(
        title="The art of the rainy-day itinerary",
        tags=("Travel", "Culture", "Food"),
        lead="Every trip has one: the day the forecast turns and the coastal walk you planned is out of the question. Seasoned travellers treat that day as an opportunity, and plan for it before they leave home.",
        heading="A plan for the wet day",
        detail="The trick is a short list, made in advance, of things that are better in the rain: a local museum you would otherwise skip, a long lunch, a covered market, a public swimming pool, a cinema showing something in the local language. A list saves the wet morning from being spent scrolling in a café.",
        points=(
            "One museum, chosen for its size: small enough to finish.",
            "One long meal somewhere busy with local people.",
            "One indoor thing you cannot do at home.",
        ),
    ),
    Report(
        title="Crossing a country by local bus, one ticket at a time",
        tags=("Travel", "Politics"),
        lead="Long-distance coaches get the attention, but the more interesting way to cross a country can be its local buses: short hops from town to town, each with its own timetable, driver and regulars. It takes longer, costs little and shows you places no tour reaches.",
        heading="What you need to know",
        detail="Rural routes are often thin, with a few buses a day and none on Sundays, and they depend on public funding that changes from year to year. Planning matters more than on a train: check the timetable the day before, carry some cash, and have a fallback for the last bus of the day.",
        points=(
            "Buy day tickets where they exist; some cover several companies.",
            "Sit near the front and ask the driver; local knowledge beats any app.",
            "Check that the route still runs in the season you travel.",
        ),
        quote="The slowest bus in the county passes every front door.",
    ),
    Report(
        title="A week of lunches from one pot of beans",
        tags=("Food", "Health"),
        lead="A pot of dried beans costs very little and takes almost no effort, as long as you remember to soak them the night before. Cooked on Sunday, one pot feeds a week of lunches, each different enough that you will not notice it is the same pot.",
        heading="Cook once, eat all week",
        detail="Cook the soaked beans gently with an onion, a bay leaf and a splash of olive oil until creamy, and salt them at the end; red kidney beans need ten minutes at a hard boil first. Keep them in their cooking liquid in the fridge. The liquid is as useful as the beans: it thickens soups and keeps leftovers from drying out.",
        points=(
            "Monday: warm on toast with garlic and greens.",
            "Wednesday: blended into soup with some of the liquid and a squeeze of lemon.",
            "Friday: fried until crisp, with an egg and chilli.",
        ),
        excerpt="Soak on Saturday, cook on Sunday, eat well until Friday: one cheap pot of beans and three lunches that do not taste like leftovers.",
    ),
    Report(
        title="The case for cooking with the seasons",
        tags=("Food", "Climate"),
        lead="Strawberries in January are a small miracle of logistics, and they usually taste like it. Cooking with the seasons means buying what grows nearby at that time of year, and it tends to bring better flavour, lower prices and a kitchen that changes with the weather.",
        heading="Where to start",
        detail="The easiest way in is a local market or a vegetable box, both of which make the choice for you. In winter that means roots, cabbages and stored apples; in late summer, a glut of tomatoes and courgettes that costs almost nothing. Recipes start to follow the produce, rather than the other way round.",
        points=(
            "Learn two recipes for whatever is in glut, and you will never waste it.",
            "Freeze summer fruit for the winter instead of buying it flown in.",
            "Ask the stallholders what is best this week; they always know.",
        ),
        quote="The best recipe in August is a ripe tomato and some salt.",
    ),
    Report(
        title="What a school kitchen can teach a restaurant",
        tags=("Food", "Health", "Politics"),
        lead="A school kitchen serves hundreds of meals in under an hour, on a budget per plate most restaurants would find impossible, to customers who are honest to the point of cruelty. The cooks who do it well have solved problems restaurants are only starting to think about.",
        heading="Lessons from the serving hatch",
        detail="The best school cooks plan menus around what children will actually eat, then bring in new foods slowly, a small portion beside something familiar. They cook from scratch where they can, waste little because they know exactly how many they feed, and talk to the children at the counter. Their budgets are set by decisions made far from the kitchen.",
        points=(
            "Introduce a new dish beside an old favourite, not instead of it.",
            "Name dishes plainly; children distrust clever menus.",
            "Notice what comes back on the plates, and change the menu to match.",
        ),
        quote="Children are the most honest restaurant critics there are.",
    ),
    Report(
        title="What living with a heat pump is really like",
        tags=("Climate", "Technology"),
        lead="Heat pumps are sold on their efficiency, which is real: they move heat from the outside air or the ground into the house, delivering several units of heat for each unit of electricity they use. Owners tend to talk about something else, which is that the house feels different.",
        heading="Low and slow",
        detail="A boiler heats radiators hard for an hour or two and then switches off. A heat pump works best running gently for long periods, holding the house at a steady temperature. Rooms are never scorching, but never cold either. Many owners say the adjustment took a winter, and that they would not go back.",
        points=(
            "Good insulation matters more than the size of the pump.",
            "Some radiators may need to be larger, because the water runs cooler.",
            "Once the controls are set, leave them; constant changes cost money.",
        ),
    ),
    Report(
        title="How street trees keep a city cool",
        tags=("Climate", "Health", "Design"),
        lead="On a hot afternoon, the difference between a street with mature trees and one without can be several degrees, enough to feel on your skin. As summers warm, city planners have begun to treat street trees less as decoration and more as equipment.",
        heading="How trees cool a street",
        detail="Trees cool in two ways: their canopies shade pavements and walls that would otherwise soak up the sun, and their leaves give off water that evaporates and carries heat away. The effect is strongest with large, established trees, which is why planting is not enough; the young ones have to survive their first dry summers.",
        points=(
            "Water new trees through their first few summers, when most are lost.",
            "Choose species that will cope with the climate expected decades from now.",
            "Leave room underground for roots, away from pipes and cables.",
        ),
        quote="A street tree is air conditioning that grows.",
    ),
    Report(
        title="Reading a flood map for your own street",
        tags=("Climate", "Science"),
        lead="Many countries now publish maps showing where flooding is likely, and they are worth ten minutes of anyone's time, renters and owners alike. They are also easy to misread, because the language of risk is not the language of everyday life.",
        heading="What the colours mean",
        detail="Flood maps usually describe likelihood as a chance in any given year. An area with a one-in-a-hundred chance does not flood once a century on schedule; it has about a one per cent chance every year, which adds up to a real chance over a long mortgage. Maps also separate flooding from rivers, from the sea and from heavy rain overwhelming drains.",
        points=(
            "Look up all three kinds of flooding, not only rivers.",
            "Check the map before signing a lease or buying, not after.",
            "Find out whether your area has a flood warning service, and sign up.",
        ),
        excerpt="A one-in-a-hundred flood risk does not mean once a century. How to read the flood map for your street, and what to do before you sign a lease.",
    ),
    Report(
        title="How to read a nutrition label in thirty seconds",
        tags=("Health", "Food"),
        lead="Nutrition labels hold a lot of numbers, and most shoppers give up after the first line. You do not need all of them. With a few habits, a label can be read in the time it takes to put the packet in the basket.",
        heading="Where to look first",
        detail="Start with the serving size, because every other number depends on it, and the portions on packets are often smaller than what people actually eat. Then compare products using the per-100-gram column, which puts different packets on an equal footing. Salt, sugar and saturated fat are the figures most worth comparing.",
        points=(
            "Check the serving size before anything else.",
            "Compare products per 100 grams, not per serving.",
            "Read the first three ingredients; they make up most of what is inside.",
        ),
    ),
    Report(
        title="Looking after your eyes when you work at a screen",
        tags=("Health", "Technology"),
        lead="Long days at a screen leave many people with tired, dry or sore eyes by the evening. Screens are not thought to damage eyes permanently, but the way we use them, staring at one distance without blinking much, is uncomfortable, and there are simple ways to ease it.",
        heading="Small habits that help",
        detail="We blink less when we concentrate on a screen, which dries the surface of the eye, and focusing at one distance for hours tires the muscles that adjust it. Both are eased by regular breaks that make you look away, and by setting the screen up so you are not straining to see it.",
        points=(
            "Every twenty minutes, look at something about twenty feet away for twenty seconds.",
            "Put the screen about an arm's length away, its top at or just below eye level.",
            "Have your eyes tested regularly; uncorrected sight makes the strain worse.",
        ),
    ),
    Report(
        title="Loneliness is a health problem. What helps?",
        tags=("Health", "Culture", "Politics"),
        lead="Loneliness used to be treated as a private sadness. Health researchers now describe long-term loneliness as a risk to physical as well as mental health, and some health services have begun to treat it as something a doctor can help with.",
        heading="From the surgery to the community",
        detail="In some areas, doctors can refer patients to a link worker who helps them find local activities: a walking group, a choir, a volunteering role, a class at the library. The idea, often called social prescribing, is that a connection can do what a pill cannot. The evidence is still growing, but many patients say it helps.",
        points=(
            "A regular activity helps more than a one-off event.",
            "Volunteering counts; being needed is a strong antidote.",
            "Small, frequent contact matters: the same café, the same neighbour.",
        ),
        quote="Nobody is too old, or too busy, to be lonely.",
    ),
    Report(
        title="How to start a reading group that lasts",
        tags=("Books", "Culture"),
        lead="Most reading groups begin with enthusiasm and a long list, and most fade within a year. The ones that last a decade tend to share a few unglamorous habits, none of which involve choosing better books.",
        heading="What long-running groups do",
        detail="They meet at the same time every month, so nobody has to negotiate a date. They stay small enough for one conversation, usually under a dozen people. And they take turns choosing, with one simple rule such as a length limit, so no single taste dominates and nobody is set homework they resent.",
        points=(
            "Fix the date and keep it, even when half the group cannot come.",
            "Rotate the choice, and keep books under about four hundred pages.",
            "It is fine not to finish the book; come anyway.",
        ),
        quote="A reading group is a friendship with a reading list.",
    ),
    Report(
        title="Why audiobooks count as reading",
        tags=("Books", "Technology", "Culture"),
        lead="Ask a room of keen readers whether listening to an audiobook counts as reading and you will start an argument. The people listening on the bus, on the school run and on long walks are mostly too busy enjoying books to join in.",
        heading="What changes, and what does not",
        detail="For stories and most general books, studies of comprehension suggest that listening and reading leave people with a broadly similar understanding. What differs is control: on the page it is easy to reread a sentence, slow down or skim. For dense, technical or poetic writing, print still tends to win.",
        points=(
            "Novels and memoirs often gain from a good narrator.",
            "Keep print for books you will want to mark up or return to.",
            "Many libraries lend audiobooks free through an app.",
        ),
        quote="Stories were told aloud long before they were written down.",
    ),
    Report(
        title="The honesty-box bookshop at the end of the lane",
        tags=("Books", "Culture", "Travel"),
        lead="At the end of a lane in a coastal village there is a shed full of second-hand books, an honesty box and a handwritten sign asking visitors to pay what they think is fair. It has been there for years, and its owner says she has never once thought about closing it.",
        heading="How an honesty shop survives",
        detail="The books are donated by villagers and visitors, so there is no stock to buy. The box usually takes enough to cover the shelves and the light bulb, with a little left over for the village hall. Now and then somebody takes a book without paying; now and then somebody leaves far more than a book is worth.",
        points=(
            "Donations are sorted weekly, and damaged books go for recycling.",
            "Visitors leave notes inside the books they bring.",
            "Walkers plan their routes to pass it.",
        ),
        quote="People are mostly honest, especially about books.",
    ),
    Report(
        title="Going to the cinema alone is underrated",
        tags=("Film", "Culture"),
        lead="Going to the cinema alone feels, to some people, like eating in a restaurant alone: faintly embarrassing. Those who do it regularly say it is one of life's great small pleasures, and that they see better films for it.",
        heading="The case for a single ticket",
        detail="Alone, you choose the film you actually want to see, not the one the group can agree on. You sit where you like, arrive without negotiating, and leave in silence with the story still in your head. Weekday afternoon screenings are quiet and often cheaper.",
        points=(
            "Go to a weekday matinee; the room is nearly yours.",
            "Sit in the middle, about two thirds of the way back.",
            "Take a walk afterwards before you look at your phone.",
        ),
        quote="You never have to argue with yourself about what to watch.",
    ),
    Report(
        title="What subtitles change about the way we watch",
        tags=("Film", "Culture", "Technology"),
        lead="More viewers than ever watch with subtitles on, even in their own language. Some blame mumbled dialogue, some blame thin television speakers, and some simply like them. Whatever the reason, subtitles change how a film is watched.",
        heading="Reading and watching at once",
        detail="Our eyes are drawn to text on screen almost involuntarily, so subtitles pull attention away from faces and backgrounds. Good subtitling is an art of compression: lines are cut to a readable length and timed to appear and disappear with the speech, without giving a punchline away early.",
        points=(
            "Watch a familiar scene with subtitles off, then on, and notice where you look.",
            "Many viewers prefer subtitles to dubbing because they keep the actors' own voices.",
            "If dialogue is hard to hear, try the television's dialogue or night mode first.",
        ),
    ),
    Report(
        title="The small cinema kept open by its own audience",
        tags=("Film", "Culture"),
        lead="On paper, a single-screen cinema in a small town should no longer exist. This one does, because a few hundred local members pay a yearly subscription, volunteer behind the counter and vote on part of the programme.",
        heading="How a community cinema works",
        detail="Membership fees cover the gap between ticket sales and the cost of running the building. Volunteers sell tickets, make coffee and introduce the odd screening. The programme mixes new releases with older films members ask for, and a monthly screening for parents with babies fills the room on a weekday morning.",
        points=(
            "A yearly membership, with cheaper tickets for members.",
            "A members' vote on one film each month.",
            "Relaxed screenings with the lights half up and the sound turned down.",
        ),
    ),
    Report(
        title="Learning an instrument as an adult, the slow way",
        tags=("Music", "Health", "Culture"),
        lead="Adults who take up an instrument usually give up for the same reason: they expect to sound good too soon. Those who stick with it describe a different goal, a few minutes of practice most days and an acceptance that progress is slow and nobody needs to hear it yet.",
        heading="Habits of adult learners who keep going",
        detail="Short, frequent practice works better than long, irregular sessions, because hands learn through repetition spread over days. A teacher, even for a few lessons, catches bad habits before they set. And playing with other people, at any level, turns practice into something to look forward to.",
        points=(
            "Ten minutes a day beats an hour on Sunday.",
            "Record yourself once a month and listen back.",
            "Find a beginners' group; everyone there is as nervous as you.",
        ),
        quote="Nobody is listening yet. That is the freedom.",
    ),
    Report(
        title="Why vinyl never quite went away",
        tags=("Music", "Culture", "Design"),
        lead="Records were supposed to have been replaced twice, first by tapes and then by compact discs. Instead vinyl has settled into a steady part of how many people buy music, often by listeners who also stream everything.",
        heading="What people are actually buying",
        detail="Buyers rarely mention sound quality first. They talk about the object: a large sleeve with artwork you can see across a room, notes to read while you listen, the ritual of putting a record on and turning it over halfway. For many, a record is a way of supporting an artist whose music they mostly hear elsewhere.",
        points=(
            "Large sleeves give artwork and notes room to breathe.",
            "A side lasts around twenty minutes, which shapes how albums are ordered.",
            "Second-hand shops are still the cheapest place to find good music.",
        ),
    ),
    Report(
        title="A guide to your first classical concert",
        tags=("Music", "Culture"),
        lead="Classical concerts can feel like a club with rules nobody explains. In fact there are very few, and most concert halls are working hard to welcome new listeners. If you have been meaning to go, here is what to expect.",
        heading="What to know before you go",
        detail="Arrive a little early; latecomers are usually seated between pieces. Dress as you would for the theatre or the pub, whichever you prefer. The one custom that puzzles newcomers is applause: audiences usually wait until the end of a whole piece rather than clapping between its movements, but nobody minds an honest mistake.",
        points=(
            "Cheap seats high up often have the best sound.",
            "Read the programme notes before the music starts.",
            "Follow one instrument through a whole movement; it changes what you hear.",
        ),
        quote="You do not need to know anything to be moved by music. You only need to be there.",
    ),
)

DRAFT_REPORTS: tuple[Report, ...] = (
    Report(
        title="Does a standing desk help? What we know so far",
        tags=("Health", "Design", "Science"),
        lead="Standing desks have gone from novelty to a fixture of office catalogues. The evidence behind them is more modest than the marketing: standing all day is not the goal, and too much of it brings problems of its own.",
        heading="What seems to help",
        detail="The clearest benefit comes from breaking up long spells of sitting, rather than from standing as such. Changing position through the day, walking over to talk to a colleague and taking short breaks all do similar work. A desk that moves easily is useful mainly because it makes changing position a habit.",
        points=(
            "Alternate between sitting and standing; neither is good for hours on end.",
            "Set the desk so your elbows rest at about a right angle in both positions.",
            "A walk at lunchtime does more than any furniture.",
        ),
    ),
    Report(
        title="What a four-day week means for a small business",
        tags=("Politics", "Health", "Culture"),
        lead="Trials of a four-day working week, with the same pay for fewer hours, have caught the attention of governments and large companies. For a small business with a handful of staff, the questions are more immediate: who answers the phone on Friday, and does the work still get done?",
        heading="How small firms make it work",
        detail="Businesses that have tried it describe a lot of preparation: cutting meetings, agreeing which tasks can wait, and staggering days off so customers can always reach someone. Some found their staff rested and more focused; others went back to five days after finding the shorter week too compressed.",
        points=(
            "Stagger days off so the business stays open five days a week.",
            "Cut meetings first; they are where the hours go.",
            "Run a trial with a fixed end date, and review it honestly.",
        ),
    ),
    Report(
        title="How to read a science headline",
        tags=("Science", "Health", "Culture"),
        lead="Science stories in the news often promise more than the research behind them. A headline says a food causes or prevents a disease; the study says something narrower and more careful. A few questions will tell you how much weight a story can bear.",
        heading="Questions to ask",
        detail="Was the study in people, or in mice or cells? Did it follow thousands of people for years, or dozens for a few weeks? Did it show that one thing causes another, or only that the two tend to occur together? Each answer changes how much the finding should change what you do.",
        points=(
            "Look for the size of the study and who took part.",
            "Ask whether it found a cause or only a link.",
            "Trust the story that tells you what the researchers could not say.",
        ),
        quote="Good science news tells you what is still uncertain.",
    ),
)

SCHEDULED_REPORTS: tuple[Report, ...] = (
    Report(
        title="A beginner's guide to the outdoor cinema season",
        tags=("Film", "Travel", "Culture"),
        lead="When the evenings stay light, films move outdoors: screens go up in parks, castle courtyards, rooftops and village greens. An outdoor screening is less about the film than the evening around it, and a little preparation makes it far better.",
        heading="How to enjoy it",
        detail="Screenings start when it is dark enough, which in summer can be late, so bring layers: warm afternoons turn into cold nights quickly. Sound carries poorly in the open, so sitting near the speakers matters more than sitting near the screen. A well-loved film works better than a new one, because half the fun is the crowd.",
        points=(
            "Bring a blanket, a low chair and a warm jumper.",
            "Arrive early for a spot near the speakers.",
            "Check the weather policy; most screenings go ahead in light rain.",
        ),
        quote="A film under the sky is half picnic, half cinema.",
    ),
)


def _related(report: Report, long_reads: Sequence[Article]) -> Article | None:
    """The latest of `long_reads` from the report's own desk (the same primary topic), if any."""
    for article in reversed(long_reads):
        if article.tags[0] == report.tags[0]:
            return article
    return None


def _compose(report: Report, *, long_reads: Sequence[Article]) -> Article:
    """A report in the paper's one shape, signed by its desk, pointing at an earlier long read."""
    topic = _TOPICS_BY_NAME[report.tags[0]]
    parts = [
        report.lead,
        f"## {report.heading}",
        report.detail,
        "\n".join(f"- {point}" for point in report.points),
    ]
    if report.quote:
        parts.append(f"> {report.quote}")
    note = f"*From our {topic.name.lower()} desk.* More in [{topic.name}](/tag/{topic.slug}/)"
    related = _related(report, long_reads)
    if related is not None:
        note += f"; related long read: [{related.title}](/{related.slug}/)"
    parts.append(note + ".")
    return Article(
        title=report.title,
        tags=report.tags,
        authors=(topic.desk,),
        markdown="\n\n".join(parts),
        excerpt=report.excerpt,
    )


def _timeline(long_reads: Sequence[Article], reports: Sequence[Report]) -> tuple[Article, ...]:
    """The published posts, oldest first: two reports, then a long read, and again.

    Reports are dealt one desk at a time, so neighbouring posts are about different things.
    Each long read goes out in the newsletter with the report just before it.
    """
    by_desk = [[r for r in reports if r.tags[0] == topic.name] for topic in TOPICS]
    turns = max(len(desk) for desk in by_desk)
    dealt = [desk[turn] for turn in range(turns) for desk in by_desk if turn < len(desk)]
    if len(dealt) != len(reports) or len(reports) != 2 * len(long_reads):
        raise ValueError("every report needs a desk, and there are two reports per long read")
    posts: list[Article] = []
    for number, long_read in enumerate(long_reads):
        earlier = long_reads[:number]
        first, second = (
            _compose(r, long_reads=earlier) for r in dealt[2 * number : 2 * number + 2]
        )
        posts += [first, replace(second, newsletter=True), replace(long_read, newsletter=True)]
    return tuple(posts)


PUBLISHED: tuple[Article, ...] = _timeline(LONG_READS, REPORTS)
DRAFTS: tuple[Article, ...] = tuple(_compose(r, long_reads=LONG_READS) for r in DRAFT_REPORTS)
SCHEDULED: tuple[Article, ...] = tuple(
    _compose(r, long_reads=LONG_READS) for r in SCHEDULED_REPORTS
)


# The generated lists are put in after dedenting: their lines carry no indentation to remove.
def _about() -> str:
    staff = "\n".join(
        f"- [{author.name}](/author/{author.slug}/): {author.beat}." for author in AUTHORS
    )
    return _text("""
        The Broadsheet Gazette is a small, independent paper about the way we live now: the technology in our pockets, the science behind the headlines, the food on the table, and the films, books and music we argue about afterwards.

        ## What we publish

        - **Long reads**, one every fortnight or so, that take a subject slowly.
        - **Short reports** from each of our twelve desks, most weeks.
        - **A newsletter** with each long read and the best of the reports around it.

        ## Who we are

        Five writers, each with a beat:

        {staff}

        ## How we work

        We check what we publish, we say when we are unsure, and we correct mistakes at the top of the piece, not in small print. We take no money from the people and companies we write about.

        > Write it plainly, check it twice, and leave the reader knowing more than before.

        ## About this site

        The Gazette is also a demonstration. Everything here is sample content served by Broadsheet, a headless CMS, so that developers have a real-looking site to build a frontend against. The writers are invented for the purpose, whatever their names suggest.
        """).replace("{staff}", staff)


def _contact() -> str:
    return _text("""
        We read everything we receive, though we cannot always reply to all of it.

        ## Write to the newsroom

        - **Story ideas and tips:** [tips@example.com](mailto:tips@example.com)
        - **Letters for publication:** [letters@example.com](mailto:letters@example.com), under 300 words, with your name and town.
        - **Corrections:** [corrections@example.com](mailto:corrections@example.com). Tell us the headline and what we got wrong; we aim to reply within two working days.
        - **Everything else:** [hello@example.com](mailto:hello@example.com)

        ## Sending something sensitive

        If what you want to tell us could get you into trouble, do not send it from a work account or a work device. Write to us first from a personal address, say only that you have something sensitive, and we will suggest a safer way to continue.

        ## The newsletter

        Each long read goes out by email on the day it is published. Reply to any issue and it reaches the editor.

        > We would rather hear that we got something wrong than keep getting it wrong.
        """)


def _archive() -> str:
    desks = "\n".join(
        f"- [{topic.name}](/tag/{topic.slug}/): {topic.description}" for topic in TOPICS
    )
    return _text("""
        Every story the Gazette has published is here, newest first, and every one is searchable by its words. To browse by subject, start from a desk:

        ## The desks

        {desks}

        ## Finding older pieces

        Long reads are marked on the front page and collected in the newsletter; short reports link to a related long read when there is one. If you remember a phrase but not a headline, search for the phrase: results are ranked by how well they match.
        """).replace("{desks}", desks)


# The settings' navigation links to these by slug: /about/, /contact/, /archive/.
PAGES: tuple[Page, ...] = (
    Page("About", _about()),
    Page("Contact", _contact()),
    Page("Archive", _archive()),
)
