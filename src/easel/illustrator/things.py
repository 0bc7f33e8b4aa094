"""The curated table of drawable subjects: a noun, its artwork, its size and where it lives.

One line per subject: `key | art | size | place | flags | synonyms`.
- art: an emoji code point (hex, OpenMoji artwork) or `prop:NAME` for a prop drawn in code;
- size: visual height in scene units (a standing person is 3; a tree 7);
- place: ground, sky, air, water, underwater, land (a landform), floor (furniture, implies
  a room), table (a small object that sits on surfaces);
- flags: `fixed` (never mirrored), `implies=SETTING`, `time=TIME`, `surface=F` (where things
  set "on" it rest, as a fraction of its height from the top), `span=A:B` (the part of its
  width they may use), `canopy` (things "under" it stand by its trunk), `edge` (hugs a side
  of the picture), `glow=X:Y` (a light at that spot), `crop=X0:Y0:X1:Y1` (use only that part
  of the artwork: the couch without its lamp), `knockout` (the artwork's own water is
  cut out so the scene's sea shows), `skin` (a person: a skin tone is chosen by the seed);
- synonyms: other words for it (`_` joins a phrase's words); the lexicon derives plurals.

Nouns missing here are looked up by their Unicode emoji names as a fallback (see lexicon).
"""

from __future__ import annotations

TABLE = """
person      | 1F9CD | 3.0 | ground | skin         | human man woman guy lady girl boy kid child someone somebody traveler traveller hiker tourist
couple      | 1F46B | 3.0 | ground |              | friends
walker      | 1F6B6 | 3.0 | ground | skin         | pedestrian
runner      | 1F3C3 | 3.0 | ground | skin         | jogger athlete
cyclist     | 1F6B4 | 3.2 | ground | skin         | biker bicyclist rider
horse rider | 1F3C7 | 3.6 | ground | skin         | jockey equestrian
dancer      | 1F483 | 3.0 | ground | skin         | ballerina
skier       | 26F7  | 3.0 | ground | skin,implies=snow | snowboarder
surfer      | 1F3C4 | 3.0 | water  | skin,implies=ocean |
swimmer     | 1F3CA | 2.0 | water  | skin,implies=ocean |
astronaut   | 1F9D1-200D-1F680 | 3.0 | air | skin,implies=space | spaceman cosmonaut
wizard      | 1F9D9 | 3.2 | ground | skin         | mage witch sorcerer magician
fairy       | 1F9DA | 1.4 | air    | skin         | pixie
mermaid     | 1F9DC | 2.6 | underwater | skin         | merman
vampire     | 1F9DB | 3.0 | ground | skin         | dracula
zombie      | 1F9DF | 3.0 | ground |              |
superhero   | 1F9B8 | 3.0 | air    | skin         | hero
ninja       | 1F977 | 3.0 | ground | skin         |
santa       | 1F385 | 3.0 | ground | skin         | santa_claus father_christmas
robot       | 1F916 | 2.6 | ground |              | android droid cyborg
ghost       | 1F47B | 2.4 | air    |              | spirit phantom
alien       | 1F47D | 2.2 | ground |              | extraterrestrial martian
snowman     | 26C4  | 2.6 | ground | implies=snow |
car         | 1F697 | 2.3 | ground |              | automobile auto sedan vehicle hatchback convertible
sports car  | 1F3CE | 2.0 | ground |              | racing_car race_car racecar supercar
taxi        | 1F695 | 2.4 | ground | implies=city | cab taxicab
suv         | 1F699 | 2.6 | ground |              | jeep van minivan
police car  | 1F693 | 2.4 | ground |              |
bus         | 1F68C | 3.6 | ground |              | coach
truck       | 1F69A | 3.4 | ground |              | lorry delivery_truck
pickup      | 1F6FB | 2.8 | ground |              | pickup_truck
fire truck  | 1F692 | 3.4 | ground |              | fire_engine firetruck
ambulance   | 1F691 | 3.2 | ground |              |
tractor     | 1F69C | 3.0 | ground | implies=farm |
motorcycle  | 1F3CD | 2.2 | ground |              | motorbike
scooter     | 1F6F5 | 2.0 | ground |              | moped vespa
bicycle     | 1F6B2 | 2.2 | ground |              | bike cycle
skateboard  | 1F6F9 | 0.8 | ground |              |
train       | 1F686 | 3.6 | ground |              | railway
locomotive  | 1F682 | 3.6 | ground |              | steam_train steam_engine
tram        | 1F68A | 3.6 | ground | implies=city | streetcar trolley
airplane    | 2708  | 3.6 | air    |              | plane aeroplane jet aircraft airliner
helicopter  | 1F681 | 3.0 | air    |              | chopper
rocket      | 1F680 | 4.5 | air    |              | spaceship rocketship spacecraft shuttle
ufo         | 1F6F8 | 3.0 | air    |              | flying_saucer
satellite   | 1F6F0 | 2.5 | air    | implies=space |
balloon     | 1F388 | 1.6 | air    |              |
kite        | 1FA81 | 1.6 | air    |              |
parachute   | 1FA82 | 2.6 | air    |              |
sailboat    | 26F5  | 4.0 | water  | knockout,implies=ocean | sailing_boat boat sailing_ship yacht
ship        | 1F6A2 | 4.5 | water  | knockout,implies=ocean | ocean_liner liner cruise_ship steamship ferry
canoe       | 1F6F6 | 1.6 | water  | implies=lake | kayak rowboat rowing_boat
speedboat   | 1F6A4 | 2.0 | water  | knockout,implies=ocean | motorboat
anchor      | 2693  | 1.4 | ground | fixed        |
tree        | 1F333 | 7.0 | ground | canopy,fixed | oak maple elm deciduous_tree
pine        | 1F332 | 7.0 | ground | canopy,fixed | pine_tree fir spruce evergreen conifer
christmas tree | 1F384 | 5.5 | ground | fixed    | xmas_tree
palm tree   | 1F334 | 7.5 | ground | canopy,implies=beach | palm coconut_tree
cactus      | 1F335 | 2.8 | ground | fixed,implies=desert | saguaro
flower      | 1F337 | 1.0 | ground | fixed        | tulip blossom bloom wildflower
rose        | 1F339 | 1.0 | ground | fixed        |
sunflower   | 1F33B | 1.8 | ground | fixed        |
cherry blossom | 1F338 | 0.8 | ground | fixed    | sakura
bouquet     | 1F490 | 1.2 | table  | fixed        | bunch_of_flowers
mushroom    | 1F344 | 0.9 | ground | fixed        | toadstool fungus
plant       | 1FAB4 | 1.6 | floor  | fixed        | potted_plant houseplant pot_plant
seedling    | 1F331 | 0.6 | ground | fixed        | sprout sapling
herb        | 1F33F | 0.8 | ground | fixed        | bush shrub fern
leaf        | 1F341 | 0.5 | ground | fixed        | leaves maple_leaf
rock        | 1FAA8 | 1.2 | ground | fixed        | stone boulder pebble
log         | 1FAB5 | 0.9 | ground |              | wood firewood
campfire    | 1F525 | 1.2 | ground | fixed,glow=0.5:0.5 | fire bonfire flames flame
mountain    | 26F0  | 12.0 | land  | fixed,surface=0.1,span=0.28:0.48 | peak summit
snowy mountain | 1F3D4 | 12.0 | land | fixed,surface=0.1,span=0.28:0.48 | snow_capped_mountain glacier
volcano     | 1F30B | 11.0 | land  | fixed,surface=0.1 |
island      | 1F3DD | 6.0 | water  | fixed,surface=0.2,implies=ocean | desert_island
cliff       | prop:cliff | 7.0 | land | edge,surface=0.0 | bluff crag cliff_edge
rainbow     | 1F308 | 6.0 | sky    | fixed        |
sun         | 2600  | 2.6 | sky    | fixed,glow=0.5:0.5 | sunshine
moon        | prop:moon | 2.6 | sky | fixed,time=night | full_moon
crescent moon | 1F319 | 2.2 | sky  | fixed,time=night | crescent half_moon
star        | 2B50  | 0.5 | sky    | fixed,time=night |
shooting star | 1F320 | 1.2 | sky  | fixed,time=night | comet meteor
planet      | 1FA90 | 2.4 | sky    | fixed,implies=space | saturn
earth       | 1F30D | 2.6 | sky    | fixed,implies=space | globe world
cloud       | 2601  | 2.0 | sky    | fixed        |
lightning   | 26A1  | 2.0 | sky    | fixed        | lightning_bolt
wave        | 1F30A | 2.0 | water  | fixed,implies=ocean | surf
house       | 1F3E0 | 5.0 | ground | fixed        | home cottage cabin bungalow farmhouse
barn        | 1F3DA | 5.0 | ground | fixed,implies=farm | shack derelict_house hut
castle      | 1F3F0 | 6.5 | ground | fixed        | fortress fort palace citadel
pagoda      | 1F3EF | 6.0 | ground | fixed        | japanese_castle
church      | 26EA  | 6.0 | ground | fixed        | chapel cathedral
mosque      | 1F54C | 6.0 | ground | fixed        |
temple      | 1F6D5 | 6.0 | ground | fixed        | shrine
museum      | 1F3DB | 5.5 | ground | fixed        | classical_building courthouse
tent        | 26FA  | 2.6 | ground | fixed        | camp campsite
circus      | 1F3AA | 5.0 | ground | fixed        | circus_tent big_top
skyscraper  | 1F3E2 | 8.0 | ground | fixed,implies=city | office_building building tower_block high-rise
school      | 1F3EB | 5.5 | ground | fixed        |
hospital    | 1F3E5 | 6.0 | ground | fixed        |
hotel       | 1F3E8 | 6.5 | ground | fixed        |
shop        | 1F3EA | 4.5 | ground | fixed        | store convenience_store
factory     | 1F3ED | 6.0 | ground | fixed        | works
stadium     | 1F3DF | 5.0 | ground | fixed        | arena
tokyo tower | 1F5FC | 9.0 | ground | fixed        | eiffel_tower radio_tower
statue of liberty | 1F5FD | 8.0 | ground | fixed | statue
fountain    | 26F2  | 3.0 | ground | fixed        |
lighthouse  | prop:lighthouse | 8.0 | ground | fixed,glow=0.5:0.12,implies=ocean | beacon
bench       | prop:bench | 1.9 | ground | fixed,surface=0.42 | park_bench
fence       | prop:fence | 1.4 | ground | fixed        | picket_fence
ferris wheel | 1F3A1 | 7.0 | ground | fixed      |
carousel    | 1F3A0 | 4.0 | ground | fixed        | merry-go-round
roller coaster | 1F3A2 | 6.0 | ground | fixed    | rollercoaster
traffic light | 1F6A6 | 3.2 | ground | fixed    | stoplight
street lamp | prop:streetlamp | 4.2 | ground | fixed,glow=0.5:0.06 | lamppost lamp_post streetlight street_light
dog         | 1F415 | 1.6 | ground |              | puppy hound doggy pup labrador retriever
poodle      | 1F429 | 1.6 | ground |              |
cat         | 1F408 | 1.2 | ground |              | kitten kitty tabby
horse       | 1F40E | 3.4 | ground |              | pony stallion mare
unicorn     | 1F984 | 2.6 | ground |              |
cow         | 1F404 | 2.8 | ground | implies=farm | cattle bull ox calf
pig         | 1F416 | 1.6 | ground | implies=farm | hog piglet
sheep       | 1F411 | 1.7 | ground | implies=farm | lamb ewe ram
goat        | 1F410 | 1.7 | ground | implies=farm |
chicken     | 1F413 | 1.0 | ground | implies=farm | rooster hen
chick       | 1F424 | 0.6 | ground |              | baby chicken
duck        | 1F986 | 1.0 | water  | implies=lake | duckling mallard
swan        | 1F9A2 | 1.5 | water  | implies=lake |
bird        | 1F426 | 0.9 | air    |              | sparrow songbird robin
dove        | 1F54A | 1.0 | air    |              | pigeon
eagle       | 1F985 | 1.6 | air    |              | hawk falcon
owl         | 1F989 | 1.2 | ground |              |
parrot      | 1F99C | 1.2 | ground |              | macaw
penguin     | 1F427 | 1.6 | ground | implies=snow |
flamingo    | 1F9A9 | 2.2 | ground |              |
peacock     | 1F99A | 1.8 | ground |              |
bat         | 1F987 | 0.9 | air    |              |
butterfly   | 1F98B | 0.6 | air    | fixed        |
bee         | 1F41D | 0.5 | air    |              | bumblebee honeybee
ladybug     | 1F41E | 0.4 | ground |              | ladybird
ant         | 1F41C | 0.4 | ground |              |
spider      | 1F577 | 0.5 | ground |              |
snail       | 1F40C | 0.5 | ground |              |
fish        | 1F41F | 1.0 | underwater | implies=underwater | goldfish
tropical fish | 1F420 | 1.0 | underwater | implies=underwater | clownfish
pufferfish  | 1F421 | 1.0 | underwater | implies=underwater | blowfish
shark       | 1F988 | 3.0 | underwater | implies=underwater |
whale       | 1F40B | 4.5 | water  | implies=ocean | orca
dolphin     | 1F42C | 2.4 | water  | implies=ocean | porpoise
octopus     | 1F419 | 1.6 | underwater | implies=underwater | squid
crab        | 1F980 | 0.8 | ground | implies=beach | lobster
shrimp      | 1F990 | 0.6 | underwater | implies=underwater | prawn
turtle      | 1F422 | 1.2 | ground |              | tortoise sea_turtle
seal        | 1F9AD | 1.8 | ground | implies=snow | sea_lion walrus
snake       | 1F40D | 1.4 | ground |              | serpent cobra python
lizard      | 1F98E | 0.9 | ground |              | gecko iguana chameleon
crocodile   | 1F40A | 1.6 | ground |              | alligator croc
frog        | 1F438 | 0.8 | ground |              | toad
dinosaur    | 1F996 | 5.0 | ground |              | t-rex trex tyrannosaurus raptor
sauropod    | 1F995 | 6.0 | ground |              | brontosaurus brachiosaurus diplodocus long_neck_dinosaur
dragon      | 1F409 | 4.5 | ground |              | wyvern
lion        | 1F981 | 2.6 | ground |              | lioness
tiger       | 1F405 | 2.4 | ground |              |
leopard     | 1F406 | 2.2 | ground |              | cheetah jaguar panther
elephant    | 1F418 | 4.0 | ground |              |
mammoth     | 1F9A3 | 4.5 | ground |              |
giraffe     | 1F992 | 4.5 | ground |              |
zebra       | 1F993 | 2.8 | ground |              |
rhino       | 1F98F | 3.0 | ground |              | rhinoceros
hippo       | 1F99B | 2.8 | ground |              | hippopotamus
monkey      | 1F412 | 1.6 | ground |              | chimp chimpanzee ape baboon
gorilla     | 1F98D | 2.8 | ground |              |
camel       | 1F42A | 3.6 | ground | implies=desert | dromedary
llama       | 1F999 | 3.0 | ground |              | alpaca
kangaroo    | 1F998 | 2.6 | ground |              | wallaby
deer        | 1F98C | 2.8 | ground |              | stag reindeer moose elk doe fawn
bison       | 1F9AC | 3.0 | ground |              | buffalo yak
bear        | 1F43B | 2.6 | ground |              | grizzly brown_bear
panda       | 1F43C | 2.4 | ground |              |
koala       | 1F428 | 1.4 | ground |              |
fox         | 1F98A | 1.4 | ground |              |
wolf        | 1F43A | 1.8 | ground |              | coyote
rabbit      | 1F407 | 0.9 | ground |              | bunny hare
mouse       | 1F401 | 0.5 | ground |              | mice rat hamster
squirrel    | 1F43F | 0.8 | ground |              | chipmunk
hedgehog    | 1F994 | 0.7 | ground |              | porcupine
raccoon     | 1F99D | 1.2 | ground |              |
otter       | 1F9A6 | 1.2 | ground |              | beaver
sloth       | 1F9A5 | 1.4 | ground |              |
coffee      | 2615  | 0.6 | table  | fixed        | coffee_cup cup mug cup_of_coffee espresso latte cappuccino hot_chocolate cocoa
tea         | 1F375 | 0.6 | table  | fixed        | teacup green_tea
teapot      | 1FAD6 | 0.9 | table  |              | kettle
croissant   | 1F950 | 0.55 | table |              | pastry
bread       | 1F35E | 0.6 | table  |              | loaf toast baguette
cake        | 1F382 | 0.9 | table  | fixed        | birthday_cake
slice of cake | 1F370 | 0.6 | table | fixed     | cheesecake shortcake
cupcake     | 1F9C1 | 0.6 | table  | fixed        | muffin
pizza       | 1F355 | 0.6 | table  |              |
burger      | 1F354 | 0.6 | table  | fixed        | hamburger cheeseburger
hot dog     | 1F32D | 0.5 | table  |              | hotdog
fries       | 1F35F | 0.6 | table  | fixed        | french_fries chips
sandwich    | 1F96A | 0.5 | table  |              |
taco        | 1F32E | 0.5 | table  |              | burrito
sushi       | 1F363 | 0.5 | table  |              |
noodles     | 1F35C | 0.6 | table  | fixed        | ramen soup bowl_of_soup
salad       | 1F957 | 0.6 | table  | fixed        |
pancakes    | 1F95E | 0.6 | table  | fixed        | pancake waffles
donut       | 1F369 | 0.5 | table  | fixed        | doughnut
cookie      | 1F36A | 0.4 | table  | fixed        | biscuit
ice cream   | 1F366 | 0.8 | table  | fixed        | icecream ice_cream_cone gelato
popcorn     | 1F37F | 0.7 | table  | fixed        |
egg         | 1F95A | 0.4 | table  | fixed        |
cheese      | 1F9C0 | 0.5 | table  |              |
apple       | 1F34E | 0.45 | table |              |
banana      | 1F34C | 0.45 | table |              |
orange fruit | 1F34A | 0.45 | table |             | tangerine mandarin
lemon       | 1F34B | 0.45 | table |              | lime_fruit
pear        | 1F350 | 0.5 | table  |              |
cherries    | 1F352 | 0.45 | table |              | cherry
strawberry  | 1F353 | 0.4 | table  |              |
grapes      | 1F347 | 0.5 | table  |              | grape vineyard
watermelon  | 1F349 | 0.6 | table  |              | melon
pineapple   | 1F34D | 0.7 | table  | fixed        |
peach       | 1F351 | 0.45 | table |              |
avocado     | 1F951 | 0.45 | table |              |
carrot      | 1F955 | 0.5 | table  |              |
corn        | 1F33D | 0.6 | table  |              | maize
pumpkin     | 1F383 | 0.9 | ground | fixed        | jack-o-lantern jack_o_lantern
wine        | 1F377 | 0.7 | table  | fixed        | glass_of_wine wine_glass
beer        | 1F37A | 0.7 | table  | fixed        | pint ale
cocktail    | 1F378 | 0.7 | table  | fixed        | martini
milk        | 1F95B | 0.6 | table  | fixed        | glass_of_milk
bottle      | 1F37E | 0.9 | table  | fixed        | champagne
fruit bowl  | 1F963 | 0.6 | table  | fixed        | bowl cereal
table       | prop:table | 2.2 | floor | fixed,surface=0.0 | desk dining_table coffee_table counter kitchen_table
sofa        | 1F6CB | 2.4 | floor  | fixed,surface=0.46,span=0.14:0.86,crop=0:0.36:0.875:1 | couch settee
chair       | 1FA91 | 2.3 | floor  |              | armchair stool seat
bed         | 1F6CF | 2.2 | floor  | fixed,surface=0.35,span=0.1:0.9 |
bathtub     | 1F6C1 | 2.0 | floor  | fixed        | bath_tub
window      | 1FA9F | 2.4 | floor  | fixed        |
door        | 1F6AA | 3.4 | floor  | fixed        | doorway
clock       | 1F570 | 0.8 | table  | fixed        | mantel_clock
alarm clock | 23F0  | 0.6 | table  | fixed        |
lamp        | 1F4A1 | 0.7 | table  | fixed,glow=0.5:0.4 | light_bulb bulb
candle      | 1F56F | 0.6 | table  | fixed,glow=0.5:0.08 | candlelight
lantern     | 1F3EE | 0.9 | table  | fixed,glow=0.5:0.5 | paper_lantern
television  | 1F4FA | 1.2 | table  | fixed        | tv
laptop      | 1F4BB | 0.8 | table  | fixed        | computer notebook
phone       | 1F4F1 | 0.5 | table  | fixed        | smartphone cellphone mobile_phone
book        | 1F4D6 | 0.5 | table  | fixed        | open_book novel
books       | 1F4DA | 0.7 | table  | fixed        | stack_of_books
guitar      | 1F3B8 | 1.8 | ground |              |
piano       | 1F3B9 | 1.0 | table  | fixed        | keyboard
violin      | 1F3BB | 1.3 | ground |              | fiddle cello
drum        | 1F941 | 1.0 | ground | fixed        | drums drum_kit
trumpet     | 1F3BA | 0.9 | ground |              | horn saxophone
microphone  | 1F3A4 | 0.8 | table  |              | mic
camera      | 1F4F7 | 0.6 | table  | fixed        |
umbrella    | 2602  | 1.8 | ground | fixed        | parasol
beach umbrella | 26F1 | 3.0 | ground | fixed,implies=beach | sunshade
gift        | 1F381 | 0.8 | ground | fixed        | present gift_box box package parcel
teddy       | 1F9F8 | 0.9 | table  | fixed        | teddy_bear toy plush
basket      | 1F9FA | 0.8 | ground | fixed        | hamper picnic_basket
bucket      | 1FAA3 | 0.8 | ground | fixed        | pail
vase        | 1F3FA | 1.0 | table  | fixed        | amphora urn
ball        | 26BD  | 0.6 | ground | fixed        | football soccer_ball soccer
basketball  | 1F3C0 | 0.6 | ground | fixed        |
tennis ball | 1F3BE | 0.4 | ground | fixed        |
baseball    | 26BE  | 0.4 | ground | fixed        |
beach ball  | 1F3D0 | 0.6 | ground | fixed        | volleyball
trophy      | 1F3C6 | 0.8 | table  | fixed        | trophy_cup award
crown       | 1F451 | 0.6 | table  | fixed        | tiara
hat         | 1F3A9 | 0.6 | table  | fixed        | top_hat
backpack    | 1F392 | 0.8 | ground | fixed        | rucksack school_bag bag
suitcase    | 1F9F3 | 1.0 | ground | fixed        | luggage
key         | 1F511 | 0.4 | table  |              |
sword       | 1F5E1 | 1.4 | ground |              | dagger blade
shield      | 1F6E1 | 1.2 | ground | fixed        |
bow         | 1F3F9 | 1.4 | ground |              | bow_and_arrow archery
telescope   | 1F52D | 1.8 | ground |              |
globe       | 1F310 | 0.8 | table  | fixed        |
map         | 1F5FA | 0.7 | table  | fixed        | treasure_map
letter      | 2709  | 0.4 | table  | fixed        | envelope mail
pencil      | 270F  | 0.5 | table  |              | pen
paintbrush  | 1F58C | 0.6 | table  |              | brush
palette     | 1F3A8 | 0.6 | table  | fixed        | paint_palette
hourglass   | 231B  | 0.6 | table  | fixed        | sandglass
bell        | 1F514 | 0.6 | table  | fixed        |
flag        | 1F6A9 | 1.6 | ground |              | banner
heart       | 2764  | 0.8 | air    | fixed        | love
treasure    | 1F4B0 | 0.7 | ground | fixed        | money_bag gold_coins
gem         | 1F48E | 0.5 | table  | fixed        | diamond jewel crystal
magic wand  | 1FA84 | 0.8 | table  |              | wand
"""
