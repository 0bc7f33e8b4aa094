"""The illustrator's non-noun vocabulary: colours, counts, sizes, relations, settings,
time of day, weather, styles and moods, each mapped to what the renderer understands.

Keys are lower-case words or phrases (up to three words); the parser matches the
longest phrase first, so "next to" wins over "next" and "golden hour" over "golden".
"""

from __future__ import annotations

from typing import Final

RGB = tuple[int, int, int]

COLORS: Final[dict[str, RGB]] = {
    "red": (214, 40, 40), "crimson": (190, 20, 50), "scarlet": (230, 36, 20), "maroon": (128, 20, 30),
    "orange": (245, 130, 20), "yellow": (250, 210, 30), "golden": (225, 175, 30), "gold": (225, 175, 30),
    "green": (50, 160, 60), "lime": (140, 210, 40), "olive": (120, 130, 40), "emerald": (20, 150, 90),
    "blue": (40, 90, 220), "navy": (25, 35, 110), "sky blue": (110, 180, 240), "light blue": (120, 180, 240),
    "dark blue": (20, 40, 130), "teal": (20, 140, 140), "turquoise": (40, 200, 190), "cyan": (40, 200, 230),
    "purple": (130, 50, 180), "violet": (140, 70, 210), "lavender": (180, 150, 230), "magenta": (220, 40, 170),
    "pink": (245, 130, 180), "brown": (130, 80, 40), "beige": (225, 205, 160), "tan": (205, 165, 110),
    "black": (30, 30, 34), "white": (245, 245, 245), "gray": (128, 128, 128), "grey": (128, 128, 128),
    "silver": (190, 195, 205), "dark green": (25, 100, 40), "light green": (140, 220, 120),
}

NUMBERS: Final[dict[str, int]] = {
    "a": 1, "an": 1, "one": 1, "single": 1, "lone": 1, "lonely": 1, "two": 2, "pair of": 2, "a pair of": 2,
    "couple of": 2, "a couple of": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "dozen": 12, "a dozen": 12,
}
#: counts a user leaves vague; the layout picks one from the range with the seed
VAGUE_COUNTS: Final[dict[str, tuple[int, int]]] = {
    "some": (2, 4), "few": (3, 4), "a few": (3, 4), "several": (3, 5), "many": (5, 8), "lots of": (5, 8),
    "a lot of": (5, 8), "group of": (3, 5), "a group of": (3, 5), "flock of": (4, 7), "a flock of": (4, 7),
    "herd of": (3, 5), "a herd of": (3, 5), "pack of": (3, 5), "bunch of": (3, 5), "a bunch of": (3, 5),
    "school of": (4, 7), "a school of": (4, 7), "crowd of": (5, 8), "family of": (3, 4), "pile of": (3, 5),
    "row of": (3, 5), "a row of": (3, 5), "numerous": (5, 8), "countless": (6, 9),
}
#: how many of a bare plural ("cacti", "trees") to draw
PLURAL_COUNT: Final[tuple[int, int]] = (2, 4)
MAX_COUNT: Final[int] = 12

SIZES: Final[dict[str, float]] = {
    "tiny": 0.6, "little": 0.75, "small": 0.8, "mini": 0.7, "baby": 0.7, "big": 1.2, "large": 1.2,
    "huge": 1.4, "giant": 1.5, "enormous": 1.5, "massive": 1.4, "tall": 1.25, "towering": 1.4,
    "blazing": 1.3, "majestic": 1.15, "gigantic": 1.5, "great": 1.15,
}

#: relation words -> the layout's relation names; "riding" may become one combined glyph
RELATIONS: Final[dict[str, str]] = {
    "on": "on", "on top of": "on", "upon": "on", "onto": "on", "atop": "on", "sitting on": "on",
    "standing on": "on", "lying on": "on", "sleeping on": "on", "perched on": "on", "resting on": "on",
    "under": "under", "underneath": "under", "beneath": "under", "below": "under", "sheltering under": "under",
    "above": "above", "over": "above", "flying over": "above", "flying above": "above", "hovering over": "above",
    "hovering above": "above", "floating above": "above", "orbiting": "above",
    "next to": "beside", "beside": "beside", "by": "beside", "near": "beside", "close to": "beside",
    "alongside": "beside", "and": "and", "with": "with", "playing with": "with", "walking": "with",
    "chasing": "with", "holding": "with", "carrying": "with", "eating": "with", "reading": "with",
    "in front of": "front", "before": "front", "behind": "behind", "in the shadow of": "front",
    "riding": "riding", "riding on": "riding", "on the back of": "riding", "driving": "riding",
    "in": "in", "inside": "in", "inside of": "in", "within": "in", "into": "in", "at": "at",
    "among": "among", "amongst": "among", "between": "among", "surrounded by": "with", "against": "beside",
    "across": "above", "along": "beside", "around": "with", "from": "at", "of": "of", "to": "at", "through": "in",
    "during": "at", "toward": "at", "towards": "at", "past": "beside", "under the": "under",
}

#: setting words -> setting names the backdrop paints
SETTINGS: Final[dict[str, str]] = {
    "city": "city", "town": "city", "downtown": "city", "street": "city", "streets": "city", "road": "road",
    "highway": "road", "avenue": "city", "urban": "city", "cityscape": "city", "metropolis": "city", "skyline": "city",
    "park": "park", "garden": "garden", "backyard": "garden", "yard": "garden", "meadow": "meadow",
    "field": "meadow", "fields": "meadow", "grass": "meadow", "grassland": "meadow", "prairie": "meadow",
    "countryside": "farm", "farm": "farm", "village": "farm", "forest": "forest", "woods": "forest",
    "woodland": "forest", "jungle": "jungle", "rainforest": "jungle", "beach": "beach", "shore": "beach",
    "seaside": "beach", "coast": "beach", "sand": "beach", "ocean": "ocean", "sea": "ocean",
    "lake": "lake", "river": "lake", "pond": "lake", "water": "ocean", "waves": "ocean", "bay": "ocean",
    "harbor": "ocean", "harbour": "ocean", "desert": "desert", "dunes": "desert", "sahara": "desert",
    "snow": "snow", "snowy": "snow", "winter": "snow", "arctic": "snow", "tundra": "snow", "ice": "snow",
    "mountains": "mountains", "hills": "mountains", "valley": "mountains", "alps": "mountains",
    "space": "space", "outer space": "space", "galaxy": "space", "cosmos": "space", "universe": "space",
    "orbit": "space", "nebula": "space", "underwater": "underwater", "under water": "underwater",
    "under the sea": "underwater", "seabed": "underwater", "reef": "underwater", "coral reef": "underwater",
    "aquarium": "underwater", "deep sea": "underwater", "room": "room", "living room": "room",
    "bedroom": "bedroom", "kitchen": "kitchen", "cafe": "cafe", "café": "cafe", "coffee shop": "cafe",
    "restaurant": "cafe", "office": "office", "classroom": "office", "library": "office", "indoors": "room",
    "interior": "room", "home": "room", "house interior": "room", "studio": "room", "sky": "sky",
    "clouds": "sky", "heavens": "sky", "air": "sky", "midair": "sky",
}
#: settings that imply weather as well ("in the snow" is both a ground and falling snow)
SETTING_WEATHER: Final[dict[str, str]] = {"snow": "snow"}
INDOOR_SETTINGS: Final[frozenset[str]] = frozenset({"room", "bedroom", "kitchen", "cafe", "office"})

TIMES: Final[dict[str, str]] = {
    "sunrise": "sunrise", "dawn": "sunrise", "daybreak": "sunrise", "first light": "sunrise",
    "morning": "morning", "morning light": "morning", "breakfast": "morning", "early morning": "sunrise",
    "day": "day", "daytime": "day", "noon": "day", "midday": "day", "afternoon": "day", "daylight": "day",
    "sunny": "day", "summer": "day", "golden hour": "sunset", "sunset": "sunset", "sundown": "sunset",
    "dusk": "sunset", "evening": "evening", "twilight": "evening", "blue hour": "evening",
    "night": "night", "nighttime": "night", "midnight": "night", "moonlight": "night", "moonlit": "night",
    "starry": "night", "starlit": "night", "dark": "night", "tonight": "night",
}

WEATHER: Final[dict[str, str]] = {
    "rain": "rain", "rainy": "rain", "raining": "rain", "drizzle": "rain", "downpour": "rain",
    "shower": "rain", "storm": "storm", "stormy": "storm", "thunder": "storm", "thunderstorm": "storm",
    "lightning": "storm", "snowing": "snow", "snowfall": "snow", "blizzard": "snow", "snowflakes": "snow",
    "fog": "fog", "foggy": "fog", "mist": "fog", "misty": "fog", "haze": "fog", "hazy": "fog",
    "cloudy": "cloudy", "overcast": "cloudy", "grey sky": "cloudy", "gray sky": "cloudy",
    "clear": "clear", "clear sky": "clear", "windy": "wind", "wind": "wind", "autumn": "autumn", "fall": "autumn",
}

STYLES: Final[dict[str, str]] = {
    "watercolor": "watercolor", "watercolour": "watercolor", "aquarelle": "watercolor",
    "noir": "noir", "film noir": "noir", "black and white": "noir", "monochrome": "noir",
    "grayscale": "noir", "greyscale": "noir", "sketch": "sketch", "pencil": "sketch", "drawing": "sketch",
    "line art": "sketch", "charcoal": "sketch", "ink": "sketch", "vintage": "vintage", "sepia": "vintage",
    "retro": "vintage", "old photo": "vintage", "pastel": "pastel", "soft colors": "pastel",
    "neon": "neon", "cyberpunk": "neon", "synthwave": "neon", "vaporwave": "neon", "pixel art": "pixel",
    "pixel": "pixel", "8-bit": "pixel", "8 bit": "pixel", "oil painting": "oil", "oil": "oil",
    "impressionist": "oil", "painting": "oil", "painterly": "oil", "gouache": "watercolor",
    "cartoon": "cartoon", "flat": "cartoon", "illustration": "cartoon", "vector": "cartoon",
}

MOODS: Final[dict[str, str]] = {
    "cozy": "cozy", "cosy": "cozy", "warm": "cozy", "snug": "cozy", "homely": "cozy", "inviting": "cozy",
    "gloomy": "gloomy", "dark mood": "gloomy", "melancholy": "gloomy", "sad": "gloomy", "moody": "gloomy",
    "eerie": "eerie", "spooky": "eerie", "creepy": "eerie", "haunted": "eerie", "mysterious": "eerie",
    "cheerful": "cheerful", "happy": "cheerful", "joyful": "cheerful", "vibrant": "cheerful",
    "colorful": "cheerful", "colourful": "cheerful", "bright": "cheerful", "playful": "cheerful",
    "dreamy": "dreamy", "magical": "dreamy", "ethereal": "dreamy", "whimsical": "dreamy", "fantasy": "dreamy",
    "calm": "calm", "peaceful": "calm", "serene": "calm", "tranquil": "calm", "quiet": "calm",
    "dramatic": "dramatic", "epic": "dramatic", "cinematic": "dramatic", "intense": "dramatic",
    "cold": "cold", "icy": "cold", "freezing": "cold", "hot": "hot", "scorching": "hot",
}

#: words the parser may skip silently (articles, fillers, common verbs and photo jargon)
STOPWORDS: Final[frozenset[str]] = frozenset("""
the a an its their his her some this that these those is are was be being very quite really just
there here it they he she we you i my our your of for as while which who whom where when then than
so too also into very much more most highly detailed detail high quality resolution 4k 8k hd uhd
photo photograph photorealistic realistic render rendered image picture shot scene view style art
artwork beautiful pretty lovely nice stunning gorgeous amazing wonderful masterpiece trending wide angle
closeup close up portrait landscape background foreground lighting light lights lit shadows shadow
sitting standing lying sleeping walking running flying floating swimming playing riding driving
looking watching waiting resting perched parked sailing glowing shining falling dancing jumping
made covered full filled soft gentle slowly together each other cute adorable old new modern
ancient little famous shallow depth focus bokeh""".split())
