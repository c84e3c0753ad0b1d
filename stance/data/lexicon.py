"""Word lists of the realism profile (`stance.data.profile`): titles, given names and surnames of
people in this field's news, and evaluative words. Plain data, kept apart so the measures read
clearly."""

TITLES = (r"(?:[Ss]pokes(?:man|woman|person)|[Mm]inister|[Ss]ecretary|[Pp]resident|[Ss]enator|"
           r"[Aa]mbassador|[Gg]eneral|[Aa]dmiral|[Dd]irector|[Cc]hief|[Cc]hairman|[Cc]hairwoman|"
           r"[Cc]ommander|[Oo]fficial|[Ee]nvoy|[Aa]dviser|[Aa]dvisor|[Aa]nalyst|[Hh]ead|[Ll]eader|"
           r"[Cc]ongressman|[Cc]ongresswoman|[Rr]epresentative|[Rr]ep\.|[Ss]en\.|[Gg]en\.|"
           r"[Ss]peaker|[Cc]hancellor|[Pp]remier|[Nn]egotiator|[Ff]ellow|[Ee]xpert|[Pp]rofessor|"
           r"[Ee]ditor|[Ss]ecretary-[Gg]eneral|[Dd]eputy|[Cc]ounterpart|[Pp]eskov)")
# A named person: two capitalised words of which the first is a common given name, or a known
# surname of the people who appear in this field's news.
GIVEN = set("""Sergei Sergey Dmitry Dmitri Vladimir Maria Alexander Aleksandr Alexei Alexey Mikhail
Nikolai Yuri Andrei Andrey Viktor Igor Oleg Anatoly Valery Vyacheslav Konstantin Grigory Leonid
Boris Ivan Pavel Mike Michael John George Donald Joe Barack Hillary Antony Tony Rex Condoleezza
Colin Robert Bob James Jim Mark Lloyd Jake Jens Mark Ash Ashton Chuck Rose Ellen Frank Dan Daniel
Steven Stephen Steve Richard David Paul Peter Thomas Tom William Bill Charles Anne Ann Jen Ned
Marshall Heather Kay Kurt Karen Victoria Wendy Linton Lindsey Marco Ted Bernie Elizabeth Jack Adam
Nancy Mitch Jeanne Jeffrey Jeff Jon Matthew Matt Patrick Brian Ben Henry Sam Samuel Eric Kathleen
Recep Mevlut Hulusi Ibrahim Ismail Ali Hassan Hossein Mohammad Mohammed Javad Abbas Nasser Ebrahim
Hugo Nicolas Jorge Delcy Vladimir Narendra Rajnath Subrahmanyam Nirmala Manohar Sushma Xi Wang Zhao
Hua Geng Mariusz Andrzej Mateusz Radoslaw Witold Antoni Jaroslaw Klaus Traian Mircea Ion Vasile
Bogdan Miroslav Mirek Petr Jan Vaclav Mirek Kristina Kaja Linas Gabrielius Dalia Vytautas Heiko
Angela Olaf Emmanuel Boris Theresa Anders Rasmus Javier Shinzo Taro Fumio Moon Yoon Park Kim Shigeru
Yoshihide Bashar Bashir Walid Faisal Mohammed Abdullah Khalid Lee Sean Kevin Gordon Ryan Rand
Avril Christopher Chris Gina Mara Rebecca Laura Lynn Susan Sarah Sergei Hans Rolf Joschka Nikki
Ilya Yevgeny Evgeny Gennady Kirill Roman Vasily Fyodor Ruslan Vitaly Artem Alexandra Elena Olga
Tatiana Natalia Mikhailov Jaap Gilles Ursula Josep Federica Javad Hossein Amir Ahmad Mahmoud""".split())
SURNAMES = set("""Putin Lavrov Peskov Ryabkov Zakharova Shoigu Medvedev Ivanov Gerasimov Antonov
Nebenzia Chemezov Shugayev Kislyak Baluevsky Yakovenko Grushko Belousov Ulyanov Kosachev Rudskoi
Bush Obama Trump Biden Clinton Pompeo Tillerson Kerry Blinken Rice Rumsfeld Cheney Gates Mattis
Esper Austin Bolton Gottemoeller Thompson Nuland Hagel Carter Panetta Stoltenberg Rutte Rasmussen
Erdogan Cavusoglu Akar Fidan Chavez Maduro Rouhani Zarif Khamenei Raisi Araghchi Modi Jaishankar
Sitharaman Singh Assad Netanyahu Abe Kishida Duda Morawiecki Tusk Blaszczak Kaczynski Macierewicz
Iohannis Basescu Ponta Landsbergis Nauseda Scholz Merkel Macron Sullivan Kendall McConnell Schumer
Pelosi Graham Menendez Inhofe Risch Cotton Rubio Cruz Markey Warren Sanders McCain Kirby Price
Psaki Nauert Ortagus Miller Wright Bondarev Ushakov Lukashenko Kimball Kristensen Postol Lewis
Pifer Kroenig Karako Obering Syring Hill Greaves Mueller Poblete Vershbow Volker Gorbachev Yeltsin
Xi Wang Zhao Kim Moon Yoon""".split())
# Words by which a narrator (or a speaker) takes sides: judgement, alarm, scorn, distancing.
EVALUATIVE = frozenset("""
absurd aggression aggressive aggressor alarming alleged allegedly arrogant baseless belligerent
bellicose blackmail blatant brazen bully bullying careless claim claimed claims coercion coercive
condemn condemned contempt cynical dangerous deceitful deceptive defiance defiant deliberate
destabilising destabilizing disgraceful dishonest disingenuous dismissed double-standard duplicitous
egregious escalation escalatory excuse false farce flagrant flimsy foolish groundless hawkish
hostile hypocrisy hypocritical hysteria hysterical illegal illegitimate imperial imperialist
intimidate intimidation irresponsible justified lawful legitimate lie lies malign menace menacing
militarist militaristic misguided myth naked nonsense notorious outrageous paranoid pretext
propaganda provocation provocative provocatively rash reckless recklessly reckless
responsible ridiculous rogue russophobia russophobic sabotage sham shameful so-called sinister
spurious threat threaten threatened threatening threats unacceptable unfounded unjust unjustified
unlawful unprovoked unreliable vindicated violate violated violation violations wise wisely
wrongly bizarre cavalier coercing hegemony hegemonic unilateral unilaterally defensive peaceful
stabilising stabilizing sovereign sovereignty bluster boast boasted rhetoric fearmongering
""".split())
